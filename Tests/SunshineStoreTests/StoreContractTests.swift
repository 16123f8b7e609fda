import Foundation
import SunshineModel
import SunshineStore
import SunshineTestSupport
import Testing

/// The store implementations the contract suite runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, memory

    var testDescription: String { rawValue }

    func make(_ node: String = "coordinator", in directory: String = StoreKind.scratch()) throws -> any ReplicaStore {
        switch self {
        case .sqlite: return try SQLiteStore(path: directory + "/\(node).sqlite", node: node)
        case .memory: return InMemoryStore(node: node)
        }
    }

    /// A store restored from what `backup(to:)` wrote.
    func restore(_ path: String, node: String) throws -> any ReplicaStore {
        switch self {
        case .sqlite: return try SQLiteStore(path: path, node: node)
        case .memory: return try InMemoryStore(contentsOf: path, node: node)
        }
    }

    static func scratch() -> String { NSTemporaryDirectory() + "sunshine-store-" + UUID().uuidString }
}

func finding(_ clock: [String: UInt64], origin: String, key: String = "finding/township-03/f1", status: String = "open", title: String = "Seal") -> Record {
    Record(
        key: key, kind: .finding, township: String(key.split(separator: "/")[1]), clock: VersionVector(clock), origin: origin,
        at: "2026-11-24T10:00:00Z",
        data: ["team": "team-03", "category": "procedure", "severity": "medium", "status": .string(status), "title": .string(title)]
    )
}

func ballot(_ township: String, serial: Int64 = 7, choice: String = "a", clock: [String: UInt64]? = nil) -> Record {
    let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: serial, choices: [choice])
    return Record(key: paper.key(township: township), kind: .ballot, township: township, clock: VersionVector(clock ?? [township: 1]), origin: township, at: "", data: paper.json)
}

/// One contract, two stores: everything the replication core relies on, checked against the
/// SQLite store and the in-memory store alike.
@Suite struct StoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func concurrentVersionsOpenAConflictThatADominatingWriteCloses(_ kind: StoreKind) async throws {
        let store = try kind.make()
        let township = finding(["township-03": 1], origin: "township-03")
        let townshipEdit = finding(["township-03": 2], origin: "township-03", status: "investigating")
        let countyEdit = finding(["township-03": 1, "coordinator": 1], origin: "coordinator", status: "resolved", title: "Seal replaced")
        let decisions = try await store.write { tx in [try tx.apply(township), try tx.apply(townshipEdit), try tx.apply(countyEdit), try tx.apply(countyEdit)] }
        #expect(decisions == [.replaces, .replaces, .concurrent(superseded: []), .duplicate])
        let current = try #require(try await store.read { try $0.current(of: township.key) })
        #expect(Set(current.siblings) == [townshipEdit, countyEdit])
        #expect(current.conflict == .concurrent)
        #expect(try await store.read { try $0.openConflicts() }.map(\.reason) == [.concurrent])
        #expect(try await store.read { try $0.history(of: township.key) }.map(\.record) == [township, townshipEdit, countyEdit])

        let resolution = try await store.write { tx in
            try tx.write(kind: .finding, key: township.key, township: "township-03", data: countyEdit.data)
        }
        #expect(resolution.clock.dominates(townshipEdit.clock) && resolution.clock.dominates(countyEdit.clock))
        #expect(try await store.read { try $0.openConflicts() }.isEmpty)
        #expect(try await store.read { try $0.current(of: township.key) }?.siblings == [resolution])
        #expect(try await store.read { try $0.history(of: township.key) }.count == 4, "nothing is overwritten")
    }

    @Test(arguments: StoreKind.allCases)
    func anAncestorArrivingLateGoesToHistoryOnly(_ kind: StoreKind) async throws {
        let store = try kind.make()
        let first = finding(["township-03": 1], origin: "township-03")
        let second = finding(["township-03": 2], origin: "township-03", status: "investigating")
        let decisions = try await store.write { tx in [try tx.apply(second), try tx.apply(first), try tx.apply(first)] }
        #expect(decisions == [.replaces, .obsolete, .duplicate])
        #expect(try await store.read { try $0.current(of: first.key) }?.siblings == [second])
        #expect(try await store.read { try $0.latestSeq() } == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func aDuplicatedBallotSerialIsQuarantined(_ kind: StoreKind) async throws {
        let store = try kind.make()
        let (first, second) = (ballot("township-03", choice: "a"), ballot("township-03", choice: "b"))
        let decisions = try await store.write { tx in [try tx.apply(first), try tx.apply(second)] }
        #expect(decisions == [.replaces, .integrityConflict])
        let current = try #require(try await store.read { try $0.current(of: first.key) })
        #expect(current.quarantined)
        #expect(current.conflict == .integrity)
        #expect(try await store.read { try $0.openConflicts() }.first?.reason == .integrity)
        #expect(try await store.read { try $0.quarantinedCount() } == 1)
        #expect(try await store.read { try $0.openConflictCounts() } == ["township-03": 1])
    }

    @Test(arguments: StoreKind.allCases)
    func aBallotStoredAfterItsRoundClosedIsQuarantinedByItsFlag(_ kind: StoreKind) async throws {
        let store = try kind.make()
        let late = ballot("township-01")
        try await store.write { tx in
            #expect(try tx.closeRound(contest: "c", round: "vote-1"))
            #expect(try tx.closeRound(contest: "c", round: "vote-1") == false)
            try tx.apply(late, flag: .roundClosed)
        }
        #expect(try await store.read { try $0.isRoundClosed(contest: "c", round: "vote-1") })
        #expect(try await store.read { try $0.closedRounds() } == [ClosedRound(contest: "c", round: "vote-1")])
        #expect(try await store.read { try $0.history(of: late.key) }.map(\.flag) == [.roundClosed])
        #expect(try await store.read { try $0.currentValues(kind: .ballot) } == [CurrentValue(value: late, quarantined: true)])
    }

    @Test(arguments: StoreKind.allCases)
    func theChangeLogServesEachStoreWhatTheRoutingRuleSays(_ kind: StoreKind) async throws {
        // Every kind × scope × source the protocol allows, against the one rule in SunshineModel:
        // versions a township's store sent itself come from that store (source), the county's own
        // have none.
        let store = try kind.make()
        var sent: [(record: Record, source: String?)] = []
        for scope in ["township-01", "township-02"] {
            sent.append((finding(["coordinator": 1], origin: "coordinator", key: "finding/\(scope)/by-county"), nil))
            sent.append((finding([scope: 1], origin: scope, key: "finding/\(scope)/own"), "store-\(scope)"))
            sent.append((ballot(scope), "store-\(scope)"))
        }
        let contestData = Contest(title: "t", township: "township-01", seats: 1, rounds: ["r"], candidates: [.init(id: "a", name: "A")]).json
        sent.append((Record(key: Contest.key("c"), kind: .contest, township: "county", clock: VersionVector(["coordinator": 1]), origin: "coordinator", at: "", data: contestData), nil))
        let all = sent
        try await store.write { tx in for (record, source) in all { try tx.apply(record, flag: nil, source: source) } }
        let log = try await store.read { try $0.changes(after: 0, for: nil, limit: 100) }
        #expect(log.map(\.source) == sent.map(\.source))
        let readers = ["township-01", "township-02", "township-03"].flatMap { township in
            // The township's own store, and the same township's store rebuilt empty.
            [Routing.Reader(township: township, store: "store-\(township)"), Routing.Reader(township: township, store: "rebuilt")]
        }
        for reader in readers {
            let served = try await store.read { try $0.changes(after: 0, for: reader, limit: 100) }
            #expect(served == log.filter(reader.reads), "\(reader) is served exactly what the routing rule says")
            for (index, (record, source)) in sent.enumerated() {
                #expect(
                    Audience([record], source: source).includes(reader) == reader.reads(log[index]),
                    "fan-out and pull agree for \(record.key) at \(reader)"
                )
            }
        }
        let rebuilt = try await store.read { try $0.changes(after: 0, for: Routing.Reader(township: "township-01", store: "rebuilt"), limit: 100) }
        #expect(rebuilt.contains { $0.record == ballot("township-01") }, "a rebuilt store gets its township's own ballots back")
        #expect(try await store.read { try $0.changes(after: 1, for: nil, limit: 2) }.map(\.seq) == [2, 3])
        #expect(try await store.read { try $0.changes(after: 0, for: readers[0], limit: 1) }.count == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func theOutboxIsWhatThisNodeWroteAfterTheCheckpoint(_ kind: StoreKind) async throws {
        let store = try kind.make("township-03")
        for serial in 1...5 {
            let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: Int64(serial), choices: [])
            _ = try await store.write { tx in try tx.write(kind: .ballot, key: paper.key(township: "township-03"), township: "township-03", data: paper.json) }
        }
        try await store.write { tx in try tx.apply(finding(["coordinator": 1], origin: "coordinator", key: "finding/county/x")) }
        try await store.write { tx in try tx.setCheckpoint("acked", to: 2) }
        let acked = try await store.read { try $0.checkpoint("acked") }
        #expect(try await store.read { try $0.outbox(of: "township-03", after: acked, limit: 10) }.map(\.seq) == [3, 4, 5])
        #expect(try await store.read { try $0.outbox(of: "township-03", after: acked, limit: 2) }.map(\.seq) == [3, 4])
        #expect(try await store.read { try $0.outboxCount(of: "township-03", after: acked) } == 3)
        #expect(try await store.read { try $0.counts() } == ["township-03": [.ballot: 5], "county": [.finding: 1]])
    }

    @Test(arguments: StoreKind.allCases)
    func theCountsAndTheTallysGroupsFollowEveryChangeOfAKey(_ kind: StoreKind) async throws {
        let store = try kind.make("township-03")
        try await store.write { tx in
            for serial in 1...6 { try tx.apply(ballot("township-03", serial: Int64(serial), choice: serial % 2 == 0 ? "a" : "b")) }
            try tx.apply(ballot("township-03", serial: 2, choice: "forged"))  // a twin: quarantined
            var voided = ballot("township-03", serial: 3, choice: "b", clock: ["township-03": 2])
            voided.deleted = true
            try tx.apply(voided)
            try tx.apply(ballot("township-04", serial: 1, choice: "a"))
            try tx.apply(finding(["township-03": 1], origin: "township-03"))
            var gone = finding(["township-03": 1], origin: "township-03", key: "finding/township-03/gone")
            gone.deleted = true
            try tx.apply(gone)
        }
        let (groups, values, counts) = try await store.read { reader in
            (try reader.ballotGroups(contest: nil, round: nil), try reader.currentValues(kind: .ballot), try reader.counts())
        }
        var expected: [BallotGroup: Int] = [:]
        for value in values {
            guard let group = BallotGroup(value.value, quarantined: value.quarantined) else { continue }
            expected[group, default: 0] += 1
        }
        #expect(Dictionary(groups.map { group in
            var key = group
            key.count = 1
            return (key, group.count)
        }, uniquingKeysWith: +) == expected)
        #expect(groups.reduce(0) { $0 + $1.count } == 6, "five live papers of township-03 (one voided) and one of township-04")
        #expect(groups.first { $0.quarantined }?.count == 1)
        #expect(counts == ["township-03": [.ballot: 5, .finding: 1], "township-04": [.ballot: 1]])
        #expect(try await store.read { try $0.ballotGroups(contest: "c", round: "vote-2") }.isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func checkpointsAdvanceOnlyForwardUnlessSet(_ kind: StoreKind) async throws {
        let store = try kind.make()
        try await store.write { tx in
            try tx.advanceCheckpoint("agent:township-01", to: 40)
            try tx.advanceCheckpoint("agent:township-01", to: 12)
            try tx.advanceCheckpoint("agent:township-02", to: 3)
            try tx.setCheckpoint("pulled", to: 9)
        }
        #expect(try await store.read { try $0.checkpoint("agent:township-01") } == 40)
        #expect(try await store.read { try $0.checkpoints(prefix: "agent:") } == ["township-01": 40, "township-02": 3])
        try await store.write { tx in try tx.setCheckpoint("pulled", to: 2) }
        #expect(try await store.read { try $0.checkpoint("pulled") } == 2)
        #expect(try await store.read { try $0.checkpoint("never") } == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func invalidLocalWritesAreRefusedAndStoreNothing(_ kind: StoreKind) async throws {
        let store = try kind.make("township-03")
        await #expect(throws: RecordError.self) {
            _ = try await store.write { tx in try tx.write(kind: .ballot, key: "ballot/township-03/x", township: "township-03", data: [:]) }
        }
        #expect(try await store.read { try $0.latestSeq() } == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func aFailedTransactionLeavesNothingBehind(_ kind: StoreKind) async throws {
        let store = try kind.make()
        let kept = finding(["township-03": 1], origin: "township-03")
        try await store.write { tx in
            try tx.apply(kept)
            try tx.advanceCheckpoint("agent:township-03", to: 1)
        }
        let before = try await Snapshot(store)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await store.write { tx in
                try tx.apply(finding(["township-03": 2], origin: "township-03", status: "investigating"))
                try tx.apply(finding(["coordinator": 1], origin: "coordinator"))
                try tx.apply(ballot("township-03"))
                try tx.apply(ballot("township-03", choice: "forged"))
                try tx.advanceCheckpoint("agent:township-03", to: 9)
                try tx.setCheckpoint("pulled", to: 4)
                _ = try tx.closeRound(contest: "c", round: "vote-1")
                throw Refused()
            }
        }
        #expect(try await Snapshot(store) == before, "nothing of the failed transaction is visible")
        // The store carries on as if it never happened: the next version takes the next number.
        let next = finding(["township-03": 2], origin: "township-03", status: "investigating")
        #expect(try await store.write { try $0.apply(next) } == .replaces)
        #expect(try await store.read { try $0.latestSeq() } == 2)
        #expect(try await store.read { try $0.history(of: kept.key) }.map(\.seq) == [1, 2])
    }

    @Test(arguments: StoreKind.allCases)
    func aBackupRestoresEveryVersionPositionAndRound(_ kind: StoreKind) async throws {
        let directory = StoreKind.scratch()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try kind.make(in: directory)
        try await store.write { tx in
            try tx.apply(finding(["township-03": 1], origin: "township-03"))
            try tx.apply(finding(["township-03": 1, "coordinator": 1], origin: "coordinator", status: "resolved"))
            try tx.apply(finding(["township-03": 2], origin: "township-03", status: "investigating"))
            try tx.apply(ballot("township-03", choice: "a"))
            try tx.apply(ballot("township-03", choice: "b"))
            _ = try tx.closeRound(contest: "c", round: "vote-1")
            try tx.apply(ballot("township-03", serial: 8), flag: .roundClosed)
            try tx.advanceCheckpoint("agent:township-03", to: 17)
        }
        let path = directory + "/backup-\(kind.rawValue)"
        try await store.backup(to: path)
        let restored = try kind.restore(path, node: "coordinator")
        #expect(try await Snapshot(restored) == Snapshot(store))
    }
}

/// Everything a store shows through its queries, to compare two stores or one store over time.
struct Snapshot: Equatable {
    var log: [StoredVersion]
    var current: [String: CurrentRecord]
    var conflicts: [OpenConflict]
    var checkpoints: [String: Int64]
    var closed: [ClosedRound]
    var counts: [String: [RecordKind: Int]]
    var quarantined: Int
    var groups: Set<BallotGroup>

    init(_ store: any ReplicaStore) async throws {
        (log, current, conflicts, checkpoints, closed, counts, quarantined, groups) = try await store.read { reader in
            let log = try reader.changes(after: 0, for: nil, limit: 100_000)
            var current: [String: CurrentRecord] = [:]
            for key in Set(log.map(\.record.key)) { current[key] = try reader.current(of: key) }
            return (
                log, current, try reader.openConflicts(), try reader.checkpoints(prefix: ""), try reader.closedRounds(), try reader.counts(),
                try reader.quarantinedCount(), Set(try reader.ballotGroups(contest: nil, round: nil))
            )
        }
    }
}
