import Foundation
import SunshineModel
import GRDB
import SunshineStore
import Testing

@Suite struct ReplicaStoreTests {
    private let directory = NSTemporaryDirectory() + "sunshine-store-" + UUID().uuidString

    private func store(_ node: String = "coordinator", file: String = "store.sqlite") throws -> ReplicaStore {
        try ReplicaStore(path: directory + "/" + file, node: node)
    }

    private func finding(_ clock: [String: UInt64], origin: String, status: String = "open", title: String = "Seal") -> SunshineModel.Record {
        SunshineModel.Record(
            key: "finding/township-03/f1", kind: .finding, township: "township-03", clock: VersionVector(clock), origin: origin,
            at: "2026-11-24T10:00:00Z",
            data: ["team": "team-03", "category": "procedure", "severity": "medium", "status": .string(status), "title": .string(title)]
        )
    }

    @Test func isDurableWALWithSynchronousFull() throws {
        let store = try store()
        #expect(try store.synchronousMode() == 2)
        #expect(try store.readNow { try String.fetchJournalMode($0) } == "wal")
    }

    @Test func concurrentVersionsOpenAConflictThatADominatingWriteCloses() async throws {
        let store = try store()
        let township = finding(["township-03": 1], origin: "township-03")
        let townshipEdit = finding(["township-03": 2], origin: "township-03", status: "investigating")
        let countyEdit = finding(["township-03": 1, "coordinator": 1], origin: "coordinator", status: "resolved", title: "Seal replaced")
        let decisions = try await store.write { tx in [try tx.apply(township), try tx.apply(townshipEdit), try tx.apply(countyEdit), try tx.apply(countyEdit)] }
        #expect(decisions == [.replaces, .replaces, .concurrent(superseded: []), .duplicate])
        let current = try #require(try store.readNow { try $0.current(of: township.key) })
        #expect(current.siblings.count == 2)
        #expect(try store.readNow { try $0.openConflicts() }.map(\.reason) == ["concurrent"])
        #expect(try store.readNow { try $0.history(of: township.key) }.count == 3)

        let resolution = try await store.write { tx in
            try tx.write(kind: .finding, key: township.key, township: "township-03", data: countyEdit.data)
        }
        #expect(resolution.clock.dominates(townshipEdit.clock) && resolution.clock.dominates(countyEdit.clock))
        #expect(try store.readNow { try $0.openConflictCount() } == 0)
        #expect(try store.readNow { try $0.current(of: township.key) }?.siblings == [resolution])
        #expect(try store.readNow { try $0.history(of: township.key) }.count == 4, "nothing is overwritten")
    }

    @Test func aDuplicatedBallotSerialIsQuarantined() async throws {
        let store = try store()
        func ballot(_ choice: String) -> SunshineModel.Record {
            let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: 7, choices: [choice])
            return SunshineModel.Record(key: paper.key(township: "township-03"), kind: .ballot, township: "township-03", clock: VersionVector(["township-03": 1]), origin: "township-03", at: "", data: paper.json)
        }
        let (first, second) = (ballot("a"), ballot("b"))
        let decisions = try await store.write { tx in [try tx.apply(first), try tx.apply(second)] }
        #expect(decisions == [.replaces, .integrityConflict])
        let current = try #require(try store.readNow { try $0.current(of: ballot("a").key) })
        #expect(current.quarantined)
        #expect(try store.readNow { try $0.openConflicts() }.first?.reason == "integrity")
    }

    @Test func pullServesATownshipItsOwnScopeAndCountyWideKinds() async throws {
        let store = try store()
        try await store.write { tx in
            for township in ["township-01", "township-02"] {
                let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: 1, choices: [])
                try tx.apply(SunshineModel.Record(key: paper.key(township: township), kind: .ballot, township: township, clock: VersionVector([township: 1]), origin: township, at: "", data: paper.json))
            }
            try tx.apply(SunshineModel.Record(
                key: "finding/township-02/f", kind: .finding, township: "township-02", clock: VersionVector(["township-02": 1]), origin: "township-02", at: "",
                data: ["team": "t", "category": "c", "severity": "low", "status": "open", "title": "x"]))
        }
        let forOne = try store.readNow { try $0.versions(after: 0, for: "township-01", limit: 100) }.map(\.record.key)
        #expect(forOne == ["finding/township-02/f"], "another township's ballots stay private; its findings are county-wide")
        let forTwo = try store.readNow { try $0.versions(after: 0, for: "township-02", limit: 100) }
        #expect(forTwo.isEmpty, "a township is not sent what it wrote itself")
        #expect(try store.readNow { try $0.versions(after: 1, limit: 1) }.map(\.seq) == [2])
    }

    @Test func theOutboxIsWhatThisNodeWroteAfterTheCheckpoint() async throws {
        let store = try store("township-03")
        for serial in 1...5 {
            let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: Int64(serial), choices: [])
            _ = try await store.write { tx in try tx.write(kind: .ballot, key: paper.key(township: "township-03"), township: "township-03", data: paper.json) }
        }
        try await store.write { tx in try tx.setCheckpoint("acked", to: 2) }
        let acked = try store.readNow { try $0.checkpoint("acked") }
        #expect(try store.readNow { try $0.outbox(of: "township-03", after: acked, limit: 10) }.map(\.seq) == [3, 4, 5])
        #expect(try store.readNow { try $0.outboxCount(of: "township-03", after: acked) } == 3)
    }

    @Test func aSecondProcessCanWriteWhileTheAgentHasTheStoreOpen() async throws {
        let agent = try store("township-03")
        let clerk = try store("township-03")  // another DatabasePool on the same file, as a clerk's command opens it
        let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: 1, choices: [])
        _ = try clerk.writeNow { tx in try tx.write(kind: .ballot, key: paper.key(township: "township-03"), township: "township-03", data: paper.json) }
        #expect(try agent.readNow { try $0.outboxCount(of: "township-03", after: 0) } == 1)
    }

    @Test func invalidLocalWritesAreRefusedAndStoreNothing() async throws {
        let store = try store("township-03")
        do {
            _ = try await store.write { tx in try tx.write(kind: .ballot, key: "ballot/township-03/x", township: "township-03", data: [:]) }
            Issue.record("an invalid ballot was written")
        } catch {
            #expect((error as? SunshineModel.RecordError)?.reason == "invalid")
        }
        #expect(try store.readNow { try $0.latestSeq() } == 0)
    }

    @Test func aCorruptFileIsRefusedWithOneSentenceNamingIt() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/corrupt.sqlite"
        try Data(repeating: 0x42, count: 8_192).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ReplicaStore(path: path, node: "coordinator")
            Issue.record("opened a corrupt file")
        } catch {
            let text = String(describing: error)
            #expect(text.hasPrefix("The database \(path) cannot be opened"), "\(text)")
            #expect(!text.contains("\n"))
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes == Data(repeating: 0x42, count: 8_192), "the file is left as it was")
    }
}

extension String {
    static func fetchJournalMode(_ reader: StoreReader) throws -> String? {
        try String.fetchOne(reader.db, sql: "PRAGMA journal_mode")
    }
}
