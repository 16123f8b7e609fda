import Foundation
import NIOCore
@testable import SunshineCoordinator
import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineTownship
import SunshineTestSupport
import SunshineWire
import Testing

/// Every replication method's params and result, produced by the real coordinator logic and
/// encoded by the real encoder, checked against proto-schemas/ by Python's jsonschema.
@Suite struct ReplicationSchemaTests {
    private func request<P: Encodable>(_ method: String, _ params: P) throws -> String {
        SchemaCheck.line(method, String(buffer: try OutboundMessage.request(id: 7, method: method, params: params)))
    }

    private func response<R: Encodable>(_ method: String, _ result: R) throws -> String {
        SchemaCheck.line(method, String(buffer: try OutboundMessage.response(id: 7, result: result)))
    }

    @Test func everyReplicationMessageMatchesThePublishedSchemas() async throws {
        let cluster = try Cluster()
        let county = County(store: try cluster.store("coordinator"))
        let township = try cluster.store("township-01")
        var lines: [String] = []

        let contest = PutParams(kind: "contest", key: "contest/county/committee-2026", data: sampleContest.json)
        lines.append(try request(Method.put, contest))
        lines.append(try response(Method.put, VersionResult(record: try await county.put(kind: .contest, key: contest.key, data: contest.data, deleted: false).record.json)))

        var papers: [Record] = []
        for serial in 1...3 {
            papers.append(try await township.write { tx in
                try tx.write(kind: .ballot, key: paper(serial).key(township: "township-01"), township: "township-01", data: paper(serial).json)
            })
        }
        let finding = try await township.write { tx in
            try tx.write(kind: .finding, key: "finding/township-01/seal", township: "township-01",
                         data: Finding(team: "t", category: "procedure", severity: .high, status: .open, title: "Seal", details: "d", notes: ["n"]).json)
        }
        var forged = papers[0]
        forged.data = paper(1, choices: ["cand-02"]).json
        let push = PushParams(records: (papers + [finding, forged]).map(\.json) + [["key": "ballot/township-01/nonsense"]], after: 0, upto: 4, head: someHead)
        lines.append(try request(Method.push, PushParams(records: (papers + [finding]).map(\.json), after: 0, upto: 4, head: String(repeating: "ab", count: 32))))
        let pushed = PushResult(try await county.push(PushBatch(push), from: AgentSession(node: "township-01", store: String(repeating: "5f", count: 16))))
        #expect(pushed.rejected.count == 1 && pushed.conflicts == 1)
        lines.append(try response(Method.push, pushed))

        lines.append(try request(Method.pull, PullParams(since: 0, limit: 100)))
        lines.append(try request(Method.pull, PullParams(since: 0)))
        lines.append(try response(Method.pull, PullResult(try await county.pull(since: 0, limit: nil, maxBytes: 1 << 20, for: Routing.Reader(township: "township-02", store: "")))))
        lines.append(SchemaCheck.line(Method.changed, String(buffer: try OutboundMessage.notification(method: Method.changed, params: ChangedParams(upto: 9)))))

        lines.append(try request(Method.status, EmptyResult()))
        lines.append(try response(Method.status, StatusResult(try await county.status())))
        lines.append(try request(Method.tally, TallyParams(contest: "committee-2026", round: "vote-1")))
        lines.append(try request(Method.tally, TallyParams()))
        lines.append(try response(Method.tally, TallyResult(try await county.tally())))
        lines.append(try request(Method.conflicts, EmptyResult()))
        let open = try await county.conflicts()
        let conflicts = ConflictsResult(open.conflicts, more: open.more)
        #expect(!conflicts.conflicts.isEmpty)
        lines.append(try response(Method.conflicts, conflicts))

        // A county edit concurrent with the township's finding opens a conflict the county resolves.
        var concurrent = finding
        concurrent.clock = VersionVector(["township-01.0123456789ab": 1])
        concurrent.data = Finding(team: "t", category: "procedure", severity: .low, status: .open, title: "Seal (2)").json
        _ = try await county.push(PushBatch(records: [concurrent], after: 4, upto: 5, head: someHead), from: AgentSession(node: "township-01", store: String(repeating: "5f", count: 16)))
        let resolve = ResolveParams(key: finding.key, data: finding.data)
        lines.append(try request(Method.resolve, resolve))
        lines.append(try response(Method.resolve, VersionResult(record: try await county.resolve(key: resolve.key, data: resolve.data).record.json)))
        lines.append(try request(Method.rejected, RejectedParams(township: "township-01", limit: 10)))
        lines.append(try request(Method.rejected, RejectedParams()))
        let held = try await county.rejected(township: nil, limit: nil)
        let rejected = RejectedResult(held.refusals, more: held.more)
        #expect(rejected.rejected.map(\.key) == ["ballot/township-01/nonsense"], "the refused record is held aside")
        lines.append(try response(Method.rejected, rejected))
        lines.append(try request(Method.closeRound, CloseRoundParams(contest: "committee-2026", round: "vote-1")))
        let close = CloseRoundParams(contest: "committee-2026", round: "vote-1", evenIfBehind: true)
        lines.append(try request(Method.closeRound, close))
        let newlyClosed = try await county.closeRound(contest: close.contest, round: close.round, evenIfBehind: true).newlyClosed
        lines.append(try response(Method.closeRound, CloseRoundResult(contest: close.contest, round: close.round, newlyClosed: newlyClosed)))

        // Negative controls: the record schemas are not vacuous.
        var badBallot = papers[1].json.objectValue!
        badBallot["data"] = ["contest": "c", "round": "r", "station": "s", "serial": -1, "choices": [], "valid": true]
        lines.append(SchemaCheck.line(Method.push, String(buffer: try OutboundMessage.request(id: 1, method: Method.push, params: PushParams(records: [.object(badBallot)], after: 0, upto: 1))), expectInvalid: true))
        var badClock = finding.json.objectValue!
        badClock["clock"] = ["township-01": 0]
        lines.append(SchemaCheck.line(Method.push, String(buffer: try OutboundMessage.request(id: 1, method: Method.push, params: PushParams(records: [.object(badClock)], after: 0, upto: 1))), expectInvalid: true))

        let result = try SchemaCheck.validate(lines)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(lines.count) passed, 0 failed"), "\(result.output)")
    }
}
