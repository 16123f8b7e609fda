import Foundation
import SunshineAgent
import SunshineCounty
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineWire
import Synchronization

extension Bench {
    /// A store id (32 hex digits, DESIGN §3.5) of its own for each benchmark client: its node's name in hex.
    static func storeID(of node: String) -> String {
        let hex = node.utf8.map { String($0, radix: 16) }.joined()
        return String((hex + String(repeating: "0", count: 32)).prefix(32))
    }

    // MARK: 7. Connections

    func connections() async throws -> [Row] {
        let count = sizes.connections
        let nodes = provinceTownships(count)
        let issueStart = monotonicNanos()
        try pki.issueAgents(nodes)
        let issueSeconds = Double(monotonicNanos() - issueStart) / 1e9
        let directory = try scratch.directory("s7")
        let coordinator = try Child(["serve-coordinator", pki.directory.path, "\(directory)/coordinator.sqlite"])
        defer { coordinator.stop() }
        let port = Int(try await coordinator.waitForLine("port ")) ?? 0
        let endpoint = Endpoint(host: "127.0.0.1", port: port)
        // Scenario 5 against this coordinator alone, then again with every connection open.
        let alone = try await runLive(directory: directory, port: port, label: "alone")
        let idleRSS = residentBytes(of: coordinator.pid) ?? 0
        let pki = self.pki
        let established = SharedCount()
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
        let gate = AsyncSemaphore(64)
        return try await withThrowingTaskGroup(of: Void.self, returning: [Row].self) { group in
            let start = monotonicNanos()
            for node in nodes {
                group.addTask {
                    await gate.wait()
                    let released = SharedCount()
                    defer { if released.value == 0 { gate.signal() } }
                    do {
                        try await withClient(node: node, role: .agent, to: endpoint, pki: pki, store: Self.storeID(of: node)) {
                            connection in
                            released.add()
                            gate.signal()
                            established.add()
                            readyContinuation.yield()
                            try await connection.waitUntilClosed()
                        }
                    } catch where !Task.isCancelled {
                        // A client that cannot connect ends the wait below, so the scenario fails, never hangs.
                        readyContinuation.finish()
                        throw error
                    }
                }
            }
            var up = 0
            for await _ in ready {
                up += 1
                if up == count { break }
            }
            guard up == count else { throw BenchError("only \(up) of \(count) agents could connect") }
            let handshakeSeconds = Double(monotonicNanos() - start) / 1e9
            // Let a few heartbeats pass with every connection open.
            try await Task.sleep(for: .seconds(sizes.name == "tiny" ? 1 : 6))
            let loadedRSS = residentBytes(of: coordinator.pid) ?? 0
            let busy = try await runLive(directory: directory, port: port, label: "busy", firstSerial: 500_000)
            let stillOpen = established.value
            let finalRSS = max(loadedRSS, residentBytes(of: coordinator.pid) ?? 0)
            group.cancelAll()
            try? await group.waitForAll()
            let p99 = { (outcome: LiveOutcome) in
                [Summary(outcome.latencies.isEmpty ? [.infinity] : outcome.latencies, better: .lower).p99]
            }
            return [
                Row(
                    scenario: "7 connections", metric: "coordinator resident memory, \(count) agents connected",
                    unit: "MB",
                    better: .lower, sunshine: [finalRSS / 1e6], baselineName: "same coordinator, 17 agents' run only",
                    baseline: [idleRSS / 1e6], target: .atMost(300, onP99: false),
                    note: "distinct certificates from one CA (issued in \(String(format: "%.1f", issueSeconds)) s); "
                        + "\(stillOpen) connections up, 64 handshakes at a time, default heartbeat"
                ),
                Row(
                    scenario: "7 connections", metric: "TLS handshake + hello", unit: "conn/s", better: .higher,
                    sunshine: [Double(count) / handshakeSeconds], target: .none
                ),
                Row(
                    scenario: "7 connections", metric: "scenario 5 p99 with them vs without", unit: "ms",
                    better: .lower,
                    sunshine: p99(busy), baselineName: "scenario 5, same coordinator, without them",
                    baseline: p99(alone),
                    target: .ratioAtMost(1.2),
                    note:
                        "p50 \(Report.number(Summary(busy.latencies.isEmpty ? [0] : busy.latencies, better: .lower).p50)) ms with, "
                        + "\(Report.number(Summary(alone.latencies.isEmpty ? [0] : alone.latencies, better: .lower).p50)) ms without; "
                        + "lost \(busy.lost + alone.lost)"
                ),
            ]
        }
    }

    // MARK: 8. Province scale

    func provinceScale() async throws -> [Row] {
        let directory = try scratch.directory("s8")
        let townships = provinceTownships(sizes.provinceTownships)
        let perTownship = sizes.provincePerTownship
        let store = try SQLiteStore(path: "\(directory)/province.sqlite", node: "coordinator")
        let county = County(store: store)
        // Load: every township's contest published by the county, then its ballots pushed through
        // the county's core (no network), 1,000 per push.
        let loadStart = monotonicNanos()
        for township in townships {
            _ = try await county.put(
                kind: .contest, key: Contest.key(Papers.contestID(for: township)),
                data: Papers.contest(for: township).json,
                deleted: false
            )
        }
        for township in townships {
            let agent = AgentSession(node: township, store: "store-\(township)")
            _ = try await county.hello(agent, pulled: nil)
            let actor = "\(township).0123456789ab"
            var after: Int64 = 0
            var serial = 1
            while serial <= perTownship {
                let end = min(serial + Replication.maxPushRecords, perTownship + 1)
                let records = (serial..<end).map { Papers.record($0, township: township, actor: actor) }
                let upto = after + Int64(records.count)
                let outcome = try await county.push(PushBatch(records: records, after: after, upto: upto, head: String(repeating: "ab", count: 32)), from: agent)
                guard outcome.accepted == records.count else {
                    throw BenchError("load: \(outcome.rejected.first.map { "\($0.error)" } ?? "")")
                }
                after = upto
                serial = end
            }
        }
        let loaded = townships.count * perTownship
        let loadSeconds = Double(monotonicNanos() - loadStart) / 1e9
        let pki = self.pki
        let contest = Papers.contestID(for: townships[townships.count / 2])
        let reps = max(self.reps * 4, 3)
        let emptyStore = try SQLiteStore(path: "\(directory)/empty.sqlite", node: "coordinator")
        func queries(_ store: any ReplicaStore) async throws -> (status: [Double], tally: [Double]) {
            try await LocalCoordinator.with(store: store, pki: pki) { coordinator in
                try await withClient(node: "operator", role: .operator, to: coordinator.endpoint, pki: pki) {
                    connection in
                    var status: [Double] = []
                    var tally: [Double] = []
                    _ = try await connection.call(Method.status, params: EmptyResult(), returning: StatusResult.self)
                    _ = try await connection.call(
                        Method.tally, params: TallyParams(contest: contest), returning: TallyResult.self)
                    for _ in 0..<reps {
                        var start = monotonicNanos()
                        let result = try await connection.call(
                            Method.status, params: EmptyResult(), returning: StatusResult.self)
                        status.append(Double(monotonicNanos() - start) / 1e6)
                        _ = result
                        start = monotonicNanos()
                        _ = try await connection.call(
                            Method.tally, params: TallyParams(contest: contest), returning: TallyResult.self)
                        tally.append(Double(monotonicNanos() - start) / 1e6)
                    }
                    return (status, tally)
                }
            }
        }
        let full = try await queries(store)
        let empty = try await queries(emptyStore)
        // Pushes into the full store and into an empty one, alternating.
        let count = sizes.durableRecords
        var intoFull: [Double] = []
        var intoEmpty: [Double] = []
        let batch512: @Sendable (inout AgentService.Configuration) -> Void = { $0.sync.batch = 512 }
        for rep in 0..<max(reps / 4, 1) {
            let first = rep * count + 1
            intoFull.append(
                Double(count)
                    / (try await Self.pushThrough(
                        store: store, count: count, pki: pki, first: first, configure: batch512
                    )))
            let fresh = try SQLiteStore(path: "\(directory)/fresh-\(rep).sqlite", node: "coordinator")
            intoEmpty.append(
                Double(count)
                    / (try await Self.pushThrough(
                        store: fresh, count: count, pki: pki, first: first, configure: batch512
                    )))
        }
        let scale = "\(loaded) ballots from \(townships.count) townships"
        return [
            Row(
                scenario: "8 province", metric: "load through County.push (no network)", unit: "rec/s", better: .higher,
                sunshine: [Double(loaded) / loadSeconds], target: .none,
                note: "\(scale) and \(townships.count) contests in \(String(format: "%.1f", loadSeconds)) s"
            ),
            Row(
                scenario: "8 province", metric: "`status` (RPC)", unit: "ms", better: .lower, sunshine: full.status,
                baselineName: "same call, empty coordinator", baseline: empty.status, target: .atMost(50, onP99: false),
                note: scale
            ),
            Row(
                scenario: "8 province", metric: "`tally` of one contest (RPC)", unit: "ms", better: .lower,
                sunshine: full.tally,
                baselineName: "same call, empty coordinator", baseline: empty.tally, target: .atMost(200, onP99: false)
            ),
            Row(
                scenario: "8 province", metric: "durable push into the full store", unit: "rec/s", better: .higher,
                sunshine: intoFull, baselineName: "same push, empty store (scenario 3)", baseline: intoEmpty,
                target: .ratioAtLeast(0.8), note: "\(count) ballots, batches of 512"
            ),
        ]
    }
}

/// A count shared by tasks.
final class SharedCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// A counting semaphore for tasks.
final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ permits: Int) { state = Mutex(State(permits: permits)) }

    func wait() async {
        await withCheckedContinuation { continuation in
            let go = state.withLock { state -> Bool in
                if state.permits > 0 {
                    state.permits -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
    }

    func signal() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.permits += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
