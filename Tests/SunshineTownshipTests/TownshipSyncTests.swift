import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import Testing

/// The township's sync logic against a real ``County`` core, both on in-memory stores, driven by
/// the signals it waits on instead of timers: no sockets, no sleeps.
@Suite struct TownshipSyncTests {
    let county = County(store: InMemoryStore(node: "coordinator"))

    private func township(_ node: String = "township-01") -> Township {
        Township(store: InMemoryStore(node: node))
    }

    private func sync(_ township: Township, batch: Int = 100, window: Int = 2, county: County? = nil) -> TownshipSync {
        var options = TownshipSync.Options()
        options.batch = batch
        options.window = window
        options.pullLimit = 7
        return TownshipSync(township: township, link: DirectLink(county: county ?? self.county, township: township.node), options: options)
    }

    /// A signal stream that has said "look now" once and then ends, so the loop drains and returns.
    private func once() -> AsyncStream<Void> {
        AsyncStream { continuation in
            continuation.yield()
            continuation.finish()
        }
    }

    private func never() -> AsyncStream<Void> { AsyncStream { _ in } }

    @Test func theOutboxReachesTheCountyInOrderThroughAWindowOfPushes() async throws {
        let office = township()
        for serial in 1...450 { try await office.record(paper(serial)) }
        try await sync(office).run(checkpoint: 0, outbox: once(), pull: never())
        #expect(try await county.checkpoint(of: "township-01") == 450)
        #expect(try await office.outbox().unsent == 0)
        #expect(try await county.status().totals.ballots == 450)
    }

    @Test func aSyncResumesFromTheCountysCheckpointNotItsOwnMemory() async throws {
        let office = township()
        for serial in 1...30 { try await office.record(paper(serial)) }
        // The county holds the first 10 (say it was restored from a backup taken then).
        let first = try await office.store.read { try $0.outbox(of: "township-01", after: 0, limit: 10) }
        _ = try await county.push(PushBatch(records: first.map(\.record), upto: 10), from: "township-01")
        try await office.store.write { try $0.setCheckpoint("acked", to: 30) }
        #expect(try await office.outbox().unsent == 0, "the township believed everything was sent")

        try await sync(office, batch: 4).run(checkpoint: 10, outbox: once(), pull: never())
        #expect(try await county.status().totals.ballots == 30, "what the county lacked was sent again")
        #expect(try await county.checkpoint(of: "township-01") == 30)
    }

    @Test func pulledPagesBringCountyRecordsAndTheNewPosition() async throws {
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        let neighbour = township("township-02")
        for index in 1...12 {
            try await neighbour.write(Finding(team: "t", category: "c", severity: .low, status: .open, title: "note \(index)"), id: "f\(index)")
        }
        try await sync(neighbour).run(checkpoint: 0, outbox: once(), pull: never())

        let office = township()
        try await sync(office).run(checkpoint: 0, outbox: never(), pull: once())
        #expect(try await office.store.read { try $0.currentRecords(kind: .finding) }.count == 12)
        #expect(try await office.store.read { try $0.current(of: Contest.key("committee-2026")) } != nil)
        let latest = try await county.store.read { try $0.latestSeq() }
        #expect(try await office.store.read { try $0.checkpoint("pulled") } == latest)
    }

    @Test func aFailedPushEndsTheSyncAndTheAcknowledgedCheckpointStaysTrue() async throws {
        let faulty = FaultyStore(InMemoryStore(node: "coordinator"))
        let county = County(store: faulty)
        let office = township()
        for serial in 1...50 { try await office.record(paper(serial)) }
        faulty.failCommit(3)
        await #expect(throws: StoreError.self) {
            try await sync(office, batch: 10, window: 1, county: county).run(checkpoint: 0, outbox: once(), pull: never())
        }
        #expect(try await county.checkpoint(of: "township-01") == 20)
        #expect(try await office.store.read { try $0.checkpoint("acked") } == 20)
        #expect(try await office.outbox().unsent == 30)
    }
}
