import Foundation
import SunshineModel
import SunshineStore
import Testing

/// Concurrent writes to one SQLite store may share a transaction (group commit); each must still
/// be all-or-nothing on its own, and durable when it returns.
@Suite struct GroupCommitTests {
    private let directory = StoreKind.scratch()

    private func paper(_ serial: Int64) -> Ballot {
        Ballot(contest: "c", round: "vote-1", station: "s01", serial: serial, choices: ["a"])
    }

    @Test func aWriteThatThrowsLeavesNoTraceWhileConcurrentWritesCommit() async throws {
        let store = try SQLiteStore(path: directory + "/township-03.sqlite", node: "township-03")
        struct Refused: Error {}
        let outcomes = try await withThrowingTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for serial in Int64(1)...40 {
                group.addTask {
                    let paper = self.paper(serial)
                    do {
                        try await store.write { tx in
                            try tx.write(
                                kind: .ballot, key: paper.key(township: "township-03"), township: "township-03",
                                data: paper.json
                            )
                            // Every third write fails after it wrote: its ballot must not stay.
                            if serial % 3 == 0 { throw Refused() }
                        }
                        return true
                    } catch is Refused {
                        return false
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 27)
        let held = try await store.read { reader in
            try (1...40).map { serial in
                try reader.current(of: self.paper(Int64(serial)).key(township: "township-03")) != nil
            }
        }
        for (index, present) in held.enumerated() {
            #expect(present == ((index + 1) % 3 != 0), "serial \(index + 1)")
        }
        #expect(try await store.read { try $0.outboxCount(of: "township-03", after: 0) } == 27)
    }

    @Test func whatAWriteReturnsIsWhatAnotherConnectionReadsAfterIt() async throws {
        let path = directory + "/township-04.sqlite"
        let store = try SQLiteStore(path: path, node: "township-04")
        let other = try SQLiteStore(path: path, node: "township-04")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for serial in Int64(1)...20 {
                group.addTask {
                    let paper = self.paper(serial)
                    let key = paper.key(township: "township-04")
                    try await store.write { tx in
                        _ = try tx.write(kind: .ballot, key: key, township: "township-04", data: paper.json)
                    }
                    // Committed before write returned: a second pool on the file sees it at once.
                    #expect(try await other.read { try $0.current(of: key) } != nil)
                }
            }
            try await group.waitForAll()
        }
    }
}
