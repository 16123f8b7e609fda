import Foundation
import NIOCore
import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineWire

extension Bench {
    // MARK: 0. Stages of a push (diagnostic)

    /// Where a durable push's time goes: each stage a batch passes through, run alone on one core
    /// over scenario 3's ballots in batches of 512, in microseconds per record. The stages run one
    /// after another in the real path, one connection at a time, so the slowest bounds a single
    /// township's throughput however the rest overlap.
    func pushStages() async throws -> [Row] {
        let count = sizes.durableRecords
        let records = (1...count).map { Papers.record($0, township: "township-01", actor: "township-01.0123456789ab") }
        let batches = stride(from: 0, to: count, by: 512).map { Array(records[$0..<min($0 + 512, count)]) }
        var encode: [Double] = []
        var parse: [Double] = []
        var decode: [Double] = []
        var apply: [Double] = []
        var bare: [Double] = []
        for rep in 0..<reps {
            // The agent: records to a push frame.
            var started = ContinuousClock.now
            let frames = try batches.enumerated().map { index, batch in
                try OutboundMessage.request(
                    id: Int64(index), method: Method.push,
                    params: PushParams(records: batch.map(\.json), after: Int64(index * 512), upto: Int64(index * 512 + batch.count), head: String(repeating: "ab", count: 32)))
            }
            encode.append(microseconds(since: started, per: count))
            // The coordinator's reader: a frame to a parsed message.
            started = ContinuousClock.now
            let messages = try frames.map { try InboundMessage.parse($0) }
            parse.append(microseconds(since: started, per: count))
            // The coordinator's responder: params to validated records.
            started = ContinuousClock.now
            var pushes: [PushBatch] = []
            for message in messages {
                guard case .request(_, _, let payload) = message else { throw BenchError("not a request") }
                let params = try payload.params(as: PushParams.self)
                pushes.append(PushBatch(entries: params.records.map(PushBatch.Entry.init(json:)), after: params.after, upto: params.upto, head: params.head))
            }
            decode.append(microseconds(since: started, per: count))
            // The county: applying each batch in its own durable transaction.
            let directory = try scratch.directory("s0-\(rep)")
            let county = County(store: try SQLiteStore(path: "\(directory)/coordinator.sqlite", node: "coordinator"))
            let agent = AgentSession(node: "township-01", store: String(repeating: "0", count: 32))
            started = ContinuousClock.now
            for push in pushes { _ = try await county.push(push, from: agent) }
            apply.append(microseconds(since: started, per: count))
            bare.append(try BareGRDB(path: "\(directory)/bare.sqlite").insert(records.map { ($0.key, $0.canonical) }, perTransaction: 512) * 1e6 / Double(count))
        }
        func row(_ metric: String, _ samples: [Double], baseline: Bool = false) -> Row {
            Row(
                scenario: "0 push stages", metric: metric, unit: "µs/rec", better: .lower, sunshine: samples,
                baselineName: baseline ? "bare GRDB insert, 512/tx" : nil, baseline: baseline ? bare : nil, target: .none)
        }
        return [
            row("agent: records → push frame", encode),
            row("coordinator: frame → message (reader)", parse),
            row("coordinator: params → validated records", decode),
            row("coordinator: County.push, SQLite, 512/tx", apply, baseline: true),
        ]
    }

    private func microseconds(since start: ContinuousClock.Instant, per count: Int) -> Double {
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(count)
    }
}
