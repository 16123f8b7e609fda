import Foundation
import SunshineModel
import SunshineStore
import Testing

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

    @Test func aCorruptFileIsRefusedWithOneSentenceNamingIt() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/corrupt.sqlite"
        try Data(repeating: 0x42, count: 8_192).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteStore(path: path, node: "coordinator")
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
