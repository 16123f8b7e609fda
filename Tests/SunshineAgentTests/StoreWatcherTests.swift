import Foundation
import SunshineModel
import SunshineStore
import SunshineTownship
import Testing

@testable import SunshineAgent

/// The agent learns of a clerk's commit from the store file itself, not from a poll.
@Suite struct StoreWatcherTests {
    #if os(Linux)
        @Test func aCommitThroughAnotherConnectionToTheFileWakesTheWatcher() async throws {
            let directory = NSTemporaryDirectory() + "sunshine-watch-" + UUID().uuidString
            let path = directory + "/township-03.sqlite"
            let agent = try SQLiteStore(path: path, node: "township-03")
            let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let watcher = try #require(StoreWatcher.start(path: agent.path) { wake.yield() })
            defer { watcher.stop() }
            // The clerk's command is another process with its own connection; another pool on the
            // same file is the same to SQLite and to inotify.
            let clerk = Township(store: try SQLiteStore(path: path, node: "township-03"))
            try await clerk.record(Ballot(contest: "c", round: "vote-1", station: "s01", serial: 1, choices: ["a"]))
            // No poll exists here: only the watcher can end this wait (the bound only stops a broken
            // build from hanging; it is not a timing claim).
            let woke = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    var iterator = wakes.makeAsyncIterator()
                    return await iterator.next() != nil
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(60))
                    return false
                }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            #expect(woke)
        }

        @Test func aPathInAMissingDirectoryIsNotWatched() {
            #expect(StoreWatcher.start(path: "/nonexistent-\(UUID().uuidString)/store.sqlite") {} == nil)
        }
    #endif
}
