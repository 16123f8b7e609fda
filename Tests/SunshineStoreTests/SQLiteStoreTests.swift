import Foundation
import GRDB
import SunshineModel
@testable import SunshineStore
import SunshineTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What only the durable store promises: the file's durability settings, sharing the file with a
/// clerk's process, and refusing a file that is not a Sunshine store.
@Suite struct SQLiteStoreTests {
    private let directory = StoreKind.scratch()

    @Test func isDurableWALWithSynchronousFull() throws {
        let store = try SQLiteStore(path: directory + "/store.sqlite", node: "coordinator")
        #expect(try store.synchronousMode() == 2)
        #expect(try store.journalMode() == "wal")
    }

    @Test func aSecondProcessCanWriteWhileTheAgentHasTheStoreOpen() async throws {
        let agent = try SQLiteStore(path: directory + "/township-03.sqlite", node: "township-03")
        let clerk = try SQLiteStore(path: directory + "/township-03.sqlite", node: "township-03")  // another pool on the same file
        let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: 1, choices: [])
        _ = try await clerk.write { tx in try tx.write(kind: .ballot, key: paper.key(township: "township-03"), township: "township-03", data: paper.json) }
        #expect(try await agent.read { try $0.outboxCount(of: "township-03", after: 0) } == 1)
    }

    /// `local status` or `ballot list` while an import of 100,000 rows (or any program) holds the
    /// write lock: opening a store that is already made writes nothing, so it reads at once.
    @Test func aStoreOpensAndReadsWhileAnotherProgramHoldsItsWriteLock() async throws {
        let path = directory + "/township-03.sqlite"
        let paper = Ballot(contest: "c", round: "vote-1", station: "s01", serial: 1, choices: [])
        // The agent has the store open, as it always has.
        let agent = try SQLiteStore(path: path, node: "township-03")
        _ = try await agent.write { tx in
            try tx.write(kind: .ballot, key: paper.key(township: "township-03"), township: "township-03", data: paper.json)
        }
        // Another connection holds the write lock (BEGIN IMMEDIATE) until told to let go.
        let writer = try DatabaseQueue(path: path)
        let (held, release) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        Thread.detachNewThread {
            try? writer.inDatabase { db in
                try db.inTransaction(.immediate) {
                    held.signal()
                    release.wait()
                    return .rollback
                }
            }
        }
        try await offThePool { held.wait() }
        defer { release.signal() }
        // Before, opening wrote (migrations, identity) and was refused as busy after 10 s.
        let reader = try SQLiteStore(path: path, node: "township-03")
        #expect(try await reader.read { try $0.currentValues(kind: .ballot) }.count == 1)
        _ = agent
    }

    @Test func aCorruptFileIsRefusedWithOneSentenceNamingIt() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/township-01.sqlite"
        try Data(repeating: 0x42, count: 8_192).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteStore(path: path, node: "township-01")
            Issue.record("opened a corrupt file")
        } catch {
            let text = String(describing: error)
            #expect(text.hasPrefix("The database \(path) is damaged or is not a Sunshine store"), "\(text)")
            #expect(text.contains("Restore it from a backup"), "\(text)")
            #expect(
                text.contains("any ballots and findings in it not yet sent to the coordinator would be lost"),
                "moving a township's file aside is not advice without its cost: \(text)")
            #expect((error as? StoreError)?.reason == .damaged)
            #expect(!text.contains("\n") && !text.contains("SQLite error"), "\(text)")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes == Data(repeating: 0x42, count: 8_192), "the file is left as it was")
    }

    @Test func aFileWhereTheDataDirectoryShouldBeIsSaidToBeAFile() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/passwd"
        try Data("root:x:0:0\n".utf8).write(to: URL(fileURLWithPath: file))
        for path in [file + "/township-01.sqlite", file + "/deeper/township-01.sqlite"] {
            let error = try #require(throws: StoreError.self) { try SQLiteStore(path: path, node: "township-01") }
            #expect(error.description.hasPrefix("\(file) is a file, not a directory"), "\(error)")
            #expect(!error.description.contains("restore") && !error.description.contains("aside"), "\(error)")
            #expect(error.reason == .unusable)
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "root:x:0:0\n")
    }

    @Test func aDirectoryWhereTheStoreFileShouldBeIsSaidToBeADirectory() throws {
        let path = directory + "/township-01.sqlite"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let error = try #require(throws: StoreError.self) { try SQLiteStore(path: path, node: "township-01") }
        #expect(error.description.hasPrefix("\(path) is a directory, not a store file"), "\(error)")
        #expect(error.reason == .unusable)
    }

    @Test(.enabled(if: geteuid() != 0 || ScratchMount.isAvailable, "needs a read-only mount when run as root"))
    func aDirectoryThisUserCannotWriteIsSaidToBeUnwritable() throws {
        let readOnly: String
        let mount: ScratchMount?
        if geteuid() == 0 {
            mount = try ScratchMount(sizeKiB: 64, readOnly: true)
            readOnly = mount!.path
        } else {
            mount = nil
            readOnly = directory + "/locked"
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
            chmod(readOnly, 0o555)
        }
        defer {
            chmod(readOnly, 0o755)
            withExtendedLifetime(mount) {}
        }
        let error = try #require(throws: StoreError.self) {
            try SQLiteStore(path: readOnly + "/township-01.sqlite", node: "township-01")
        }
        #expect(error.description.hasPrefix("The directory \(readOnly) cannot be written by this user"), "\(error)")
        #expect(!error.description.contains("restore") && !error.description.contains("aside"), "\(error)")
        let below = try #require(throws: StoreError.self) {
            try SQLiteStore(path: readOnly + "/data/township-01.sqlite", node: "township-01")
        }
        #expect(below.description.hasPrefix("The directory \(readOnly) cannot be written by this user"), "\(below)")
    }

    @Test(arguments: [
        (ResultCode.SQLITE_FULL, Int64(1) << 40, StoreError.Reason.full),
        (.SQLITE_IOERR, 0, .full),
        (.SQLITE_IOERR, 4_096, .full),
        (.SQLITE_CANTOPEN, 0, .full),
        (.SQLITE_IOERR, Int64(1) << 40, .other),
        (.SQLITE_CANTOPEN, Int64(1) << 40, .other),
        (.SQLITE_NOTADB, 0, .damaged),
        (.SQLITE_CORRUPT, Int64(1) << 40, .damaged),
        (.SQLITE_BUSY, Int64(1) << 40, .busy),
    ])
    func aFailureToOpenIsExplainedByWhatCausedIt(_ code: ResultCode, freeBytes: Int64, reason: StoreError.Reason) {
        let error = SQLiteStore.openingFailure(
            DatabaseError(resultCode: code, message: "what SQLite said"), path: "/data/township-01.sqlite",
            node: "township-01", freeBytes: freeBytes)
        #expect(error.reason == reason, "\(error)")
        if reason == .full {
            #expect(error.description == "The disk holding /data/township-01.sqlite is full; nothing was written. "
                + "Free some space and try again.")
        }
        // Only a damaged file gets the advice to restore or move it aside, and then with its cost.
        #expect(error.description.contains("aside") == (reason == .damaged), "\(error)")
    }
}
