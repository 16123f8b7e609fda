import SunshineModel
import SunshineStore
import SunshineTestSupport
import Testing

/// The fault injector itself: a failed commit is a real rollback of the wrapped store.
@Suite struct FaultyStoreTests {
    @Test(arguments: StoreKind.allCases)
    func theNthCommitFailsAndLeavesNothingWhileTheOthersCommit(_ kind: StoreKind) async throws {
        let store = FaultyStore(try kind.make("township-01"))
        store.failCommit(2)
        for serial in 1...3 {
            do {
                try await store.write { tx in try tx.apply(ballot("township-01", serial: Int64(serial))) }
                #expect(serial != 2, "the second commit was to fail")
            } catch let error as StoreError {
                #expect(serial == 2)
                #expect(error.reason == .busy)
            }
        }
        #expect(try await store.read { try $0.changes(after: 0, for: nil, limit: 10) }.map(\.record) == [ballot("township-01", serial: 1), ballot("township-01", serial: 3)])
        #expect(store.commits == 3)
    }

    @Test func everyCommitFailsUntilHealed() async throws {
        let store = FaultyStore(InMemoryStore(node: "township-01"))
        store.failEveryCommit()
        for serial in 1...3 {
            await #expect(throws: StoreError.self) { try await store.write { tx in try tx.apply(ballot("township-01", serial: Int64(serial))) } }
        }
        store.heal()
        try await store.write { tx in try tx.apply(ballot("township-01", serial: 9)) }
        #expect(try await store.read { try $0.latestSeq() } == 1)
    }
}
