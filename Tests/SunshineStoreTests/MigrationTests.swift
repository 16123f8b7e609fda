import Foundation
import GRDB
import SunshineModel
import SunshineTestSupport
import Synchronization
import Testing

@testable import SunshineStore

/// A store written before a migration opens with everything it held: the same versions under
/// the same sequence numbers, the same log heads, and numbers never handed out twice.
@Suite struct MigrationTests {
    @Test func aStoreFromBeforeV3AndV4KeepsItsLogItsHeadsItsNumbersAndItsTally() async throws {
        let path = StoreKind.scratch() + "/township-03.sqlite"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // The file as a build with migrations v1 and v2 left it, written by the same statements.
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v2")
            try await queue.write { db in
                let tx = SQLiteTransaction(db: db, node: "township-03", decoded: DecodeCounter())
                try tx.ensureIdentity()
                for serial in 1...5 {
                    let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: Int64(serial), choices: ["a"])
                    try tx.write(kind: .ballot, key: paper.key(township: "township-03"), township: "township-03", data: paper.json)
                }
                try tx.write(kind: .finding, key: "finding/township-03/seal", township: "township-03",
                             data: ["team": "t", "category": "c", "severity": "low", "status": "open", "title": "Seal"])
                // A number handed out by a write whose row is gone must not be handed out again.
                try db.execute(sql: "UPDATE sqlite_sequence SET seq = 9 WHERE name = 'version'")
            }
        }
        let before = try await snapshot(of: path)
        #expect(before.changes.count == 6)

        let store = try SQLiteStore(path: path, node: "township-03")
        let after = try await store.read { snapshot in
            (changes: try snapshot.changes(after: 0, for: nil, limit: 100).map(\.seq), heads: try (1...6).map { try snapshot.head(at: Int64($0)) },
             ballots: try snapshot.currentRecords(kind: .ballot).map(\.value), findings: try snapshot.currentValues(kind: .finding).map(\.value),
             groups: try snapshot.ballotGroups(contest: nil, round: nil))
        }
        #expect(after.changes == before.changes)
        #expect(after.heads == before.heads)
        #expect(after.ballots == before.ballots && after.ballots.count == 5)
        #expect(after.findings == before.findings && after.findings.count == 1)
        #expect(after.groups == before.groups && after.groups.map(\.count) == [5])
        let next = try await store.write { tx in
            try tx.write(kind: .finding, key: "finding/township-03/seal", township: "township-03",
                         data: ["team": "t", "category": "c", "severity": "low", "status": "resolved", "title": "Seal"])
        }
        #expect(try await store.read { try $0.latestSeq() } == 10, "the next number follows the highest ever handed out, not the highest held")
        #expect(try await store.read { try $0.history(of: "finding/township-03/seal") }.map(\.record).last == next)
        // What v3 and v4 dropped is gone; what the apply path reads by is there; `current` and
        // `ballot_group` are each one B-tree (no rowid table beside a key index).
        let (indexes, tables) = try await DatabaseQueue(path: path).read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('version', 'current', 'ballot_group')"),
             try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ('current', 'ballot_group')"))
        }
        #expect(Set(indexes) == ["version_by_key_clock", "version_by_origin", "current_quarantined", "ballot_group_by_round"])
        #expect(tables.count == 2 && tables.allSatisfy { $0.hasSuffix("WITHOUT ROWID") }, "\(tables)")
    }

    /// An agent and a clerk's command opening a store at the same moment — a new one, or one a
    /// new build must migrate — both open it, and it is migrated once: SQLite refuses a second
    /// `journal_mode = WAL` at once while the first is under way, and GRDB's migrator reads which
    /// migrations are applied outside the transaction that applies one, so the loser of the race
    /// fails (busy, a table that exists, or the migration's row written already) and must try again.
    @Test(arguments: ["new", "v2"])
    func openersRacingOverAMigrationAllOpenTheSameStore(_ start: String) async throws {
        for round in 0..<20 {
            let path = StoreKind.scratch() + "/race-\(round)/township-03.sqlite"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if start == "v2" {
                // As a build with v1 and v2 left it: in WAL mode, as every store is.
                try Schema.migrator.migrate(try DatabasePool(path: path), upTo: "v2")
            }
            let failures = try await offThePool {
                let failures = Mutex<[String]>([])
                DispatchQueue.concurrentPerform(iterations: 6) { _ in
                    do { _ = try SQLiteStore(path: path, node: "township-03") } catch { failures.withLock { $0.append("\(error)") } }
                }
                return failures.withLock { $0 }
            }
            #expect(failures.isEmpty, "round \(round): \(failures)")
            let applied = try await DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
            #expect(applied == ["v1", "v2", "v3", "v4"])
        }
    }

    private func snapshot(of path: String) async throws
        -> (changes: [Int64], heads: [String?], ballots: [SunshineModel.Record], findings: [SunshineModel.Record], groups: [BallotGroup])
    {
        let queue = try DatabaseQueue(path: path)
        return try await queue.read { db in
            let snapshot = SQLiteSnapshot(db: db, decoded: DecodeCounter())
            return (try snapshot.changes(after: 0, for: nil, limit: 100).map(\.seq), try (1...6).map { try snapshot.head(at: Int64($0)) },
                    try snapshot.currentRecords(kind: .ballot).map(\.value), try snapshot.currentValues(kind: .finding).map(\.value),
                    try snapshot.ballotGroups(contest: nil, round: nil))
        }
    }
}
