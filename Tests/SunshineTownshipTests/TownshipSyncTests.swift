import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import Testing

/// A signal stream that has said "look now" once and then ends, so a sync loop drains and returns.
func once() -> AsyncStream<Void> {
    AsyncStream { continuation in
        continuation.yield()
        continuation.finish()
    }
}

/// A signal stream that never says anything.
func never() -> AsyncStream<Void> { AsyncStream { _ in } }

/// One session of a township against a county in this process: hello, then sync until both
/// signal streams' work is done.
func syncOnce(
    _ township: Township, with county: County, batch: Int = 100, window: Int = 2, push: Bool = true, pull: Bool = true
) async throws {
    let (link, start) = try await DirectLink.connect(township, to: county)
    var options = TownshipSync.Options()
    options.batch = batch
    options.window = window
    options.pullLimit = 7
    let sync = TownshipSync(township: township, link: link, options: options)
    if push { try await sync.run(start, outbox: once(), pull: never()) }
    if pull {
        var pulling = start
        pulling.pullFrom = nil
        try await sync.run(pulling, outbox: never(), pull: once())
    }
}

/// The township's sync logic against a real ``County`` core, both on in-memory stores, driven by
/// the signals it waits on instead of timers: no sockets, no sleeps.
@Suite struct TownshipSyncTests {
    let county = County(store: InMemoryStore(node: "coordinator"))

    private func township(_ node: String = "township-01") -> Township {
        Township(store: InMemoryStore(node: node))
    }

    @Test func theOutboxReachesTheCountyInOrderThroughAWindowOfPushes() async throws {
        let office = township()
        for serial in 1...450 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county, pull: false)
        let store = try await office.store.read { try $0.identity().storeID }
        #expect(try await county.checkpoint(of: AgentSession(node: "township-01", store: store)) == 450)
        #expect(try await office.outbox().unsent == 0)
        #expect(try await county.status().totals.ballots == 450)
    }

    @Test func aSyncResumesFromTheCountysCheckpointNotItsOwnMemory() async throws {
        let office = township()
        for serial in 1...30 { try await office.record(paper(serial)) }
        let agent = AgentSession(node: "township-01", store: try await office.store.read { try $0.identity().storeID })
        // The county holds the first 10 (say it was restored from a backup taken then).
        let first = try await office.store.read { try $0.outbox(of: "township-01", after: 0, limit: 10) }
        _ = try await county.push(PushBatch(records: first.map(\.record), after: 0, upto: 10), from: agent)
        try await office.store.write { try $0.setCheckpoint("acked", to: 30) }
        #expect(try await office.outbox().unsent == 0, "the township believed everything was sent")

        try await syncOnce(office, with: county, batch: 4, pull: false)
        #expect(try await county.status().totals.ballots == 30, "what the county lacked was sent again")
        #expect(try await county.checkpoint(of: agent) == 30)
    }

    @Test func pulledPagesBringCountyRecordsAndTheNewPosition() async throws {
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        let neighbour = township("township-02")
        for index in 1...12 {
            try await neighbour.write(Finding(team: "t", category: "c", severity: .low, status: .open, title: "note \(index)"), id: "f\(index)")
        }
        try await syncOnce(neighbour, with: county, pull: false)

        let office = township()
        try await syncOnce(office, with: county, push: false)
        #expect(try await office.store.read { try $0.currentRecords(kind: .finding) }.count == 12)
        #expect(try await office.store.read { try $0.current(of: Contest.key("committee-2026")) } != nil)
        let (latest, head) = try await county.store.read { (try $0.latestSeq(), try $0.head(at: $0.latestSeq())) }
        #expect(try await office.store.read { try $0.pullPosition() } == PullPosition(upto: latest, head: head!))
    }

    @Test func aFailedPushEndsTheSyncAndTheAcknowledgedCheckpointStaysTrue() async throws {
        let faulty = FaultyStore(InMemoryStore(node: "coordinator"))
        let county = County(store: faulty)
        let office = township()
        for serial in 1...50 { try await office.record(paper(serial)) }
        let agent = AgentSession(node: "township-01", store: try await office.store.read { try $0.identity().storeID })
        // The next commits: the hello, two pushes, and then the third push fails.
        faulty.failCommit(4)
        await #expect(throws: StoreError.self) { try await syncOnce(office, with: county, batch: 10, window: 1, pull: false) }
        #expect(try await county.checkpoint(of: agent) == 20)
        #expect(try await office.store.read { try $0.checkpoint("acked") } == 20)
        #expect(try await office.outbox().unsent == 30)
    }
}
