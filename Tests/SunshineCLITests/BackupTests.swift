import Foundation
import SunshineModel
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import Testing

@testable import sunshine

/// `sunshine backup`: a consistent copy of a running node's store, usable as the store itself.
@Suite(.timeLimit(.minutes(2)))
struct BackupTests {
    private func ballot(_ serial: Int64) -> Ballot {
        Ballot(
            contest: "committee-2026-township-01", round: "vote-1", station: "s01", serial: serial, choices: ["cand-01"]
        )
    }

    /// Opens the backup `file` as the store of `node` it was taken from, in a directory of its own.
    private func restored(_ file: String, node: String, in directory: ConfigDirectory) throws -> SQLiteStore {
        let data = directory.path + "/restored"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: file, toPath: "\(data)/\(node).sqlite")
        return try SQLiteStore(path: "\(data)/\(node).sqlite", node: node)
    }

    @Test func aBackupTakenWhileClerksWriteIsAConsistentStoreOfItsOwn() async throws {
        let directory = try ConfigDirectory()
        let data = directory.path + "/data"
        let store = try SQLiteStore(path: "\(data)/township-01.sqlite", node: "township-01")
        let office = Township(store: store)
        for serial: Int64 in 1...50 { _ = try await office.record(ballot(serial)) }
        let file = directory.path + "/township-01.backup"
        let backup = try await withThrowingTaskGroup(of: (status: Int32, output: String)?.self) { group in
            group.addTask {
                for serial in 51...250 { _ = try await office.record(ballot(Int64(serial))) }
                return nil
            }
            group.addTask { try runProcess(SunshineExecutable.path, ["backup", "--data", data, "--to", file]) }
            var result: (status: Int32, output: String)?
            for try await outcome in group { result = result ?? outcome }
            return try #require(result)
        }
        #expect(backup.status == 0, "\(backup.output)")
        #expect(backup.output.hasPrefix("Backed up township-01's store \(data)/township-01.sqlite to \(file) ("))
        let copy = try restored(file, node: "township-01", in: directory)
        let (seq, identity) = try await copy.read { (try $0.latestSeq(), try $0.identity()) }
        #expect(seq >= 50 && seq <= 250)
        #expect(identity.storeID == (try await store.read { try $0.identity().storeID }))
        // The copy is a prefix of the store's hash-chained log: the same head at its last change.
        let copied = try await copy.read { try $0.head(at: seq) }
        let original = try await store.read { try $0.head(at: seq) }
        #expect(copied != nil && copied == original)
        let ballots = try await copy.read { try $0.counts()["township-01"]?[.ballot] }
        #expect(ballots == Int(seq))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.contains("partial")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func aSecondBackupReplacesTheFirstWhole() async throws {
        let directory = try ConfigDirectory()
        let data = directory.path + "/data"
        _ = try SQLiteStore(path: "\(data)/coordinator.sqlite", node: "coordinator")
        let file = try directory.write("county.backup", "an older backup")
        let result = try runProcess(SunshineExecutable.path, ["backup", "--data", data, "--to", file])
        #expect(result.status == 0, "\(result.output)")
        let copy = try restored(file, node: "coordinator", in: directory)
        #expect(try await copy.read { try $0.latestSeq() } == 0)
    }

    @Test func theStoreIsFoundOrTheRefusalSaysWhy() async throws {
        let directory = try ConfigDirectory()
        let empty = directory.path + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(
            throws: CommandFailure(
                "\(empty) holds no Sunshine store (no NODE.sqlite); pass the node's --data directory.")
        ) {
            try BackupCommand.storeNode(in: empty, named: nil)
        }
        let two = directory.path + "/two"
        _ = try SQLiteStore(path: "\(two)/township-01.sqlite", node: "township-01")
        _ = try SQLiteStore(path: "\(two)/township-02.sqlite", node: "township-02")
        #expect(throws: CommandFailure("\(two) holds the stores of township-01, township-02; say which with --node.")) {
            try BackupCommand.storeNode(in: two, named: nil)
        }
        #expect(try BackupCommand.storeNode(in: two, named: "township-02") == "township-02")
        #expect(
            throws: CommandFailure(
                "\(two)/township-03.sqlite does not exist; pass the --data directory of the running township-03.")
        ) {
            try BackupCommand.storeNode(in: two, named: "township-03")
        }
        let itself = try runProcess(
            SunshineExecutable.path,
            ["backup", "--data", two, "--node", "township-01", "--to", "\(two)/township-01.sqlite"])
        #expect(itself.status != 0)
        #expect(itself.output.contains("is a store's own file in the data directory"), "\(itself.output)")
        // Review: a copy renamed over the live store's WAL lost every ballot not yet checkpointed.
        let store = try SQLiteStore(path: "\(two)/township-01.sqlite", node: "township-01")
        let township = Township(store: store)
        for serial in 1...20 { try await township.record(paper(serial)) }
        for companion in ["-wal", "-shm", "-journal"] {
            let refused = try runProcess(
                SunshineExecutable.path,
                ["backup", "--data", two, "--node", "township-01", "--to", "\(two)/./township-01.sqlite\(companion)"])
            #expect(refused.status != 0, "\(companion): \(refused.output)")
            #expect(refused.output.contains("write the backup outside it"), "\(refused.output)")
        }
        let other = try runProcess(
            SunshineExecutable.path, ["backup", "--data", two, "--node", "township-01", "--to", "\(two)/township-02.sqlite"])
        #expect(other.status != 0, "another store's file in the same directory is refused too")
        #expect(try await township.outbox().unsent == 20, "every recorded ballot is still there")
        #expect(try await SQLiteStore(path: "\(two)/township-02.sqlite", node: "township-02").read { try $0.latestSeq() } == 0)
    }
}
