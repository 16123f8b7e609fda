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
    var options = TownshipSync.Options()
    options.batch = batch
    options.window = window
    options.pullLimit = 7
    // Each part its own session, as an agent that reconnects: each starts from what the county
    // says at hello.
    if push {
        let (link, start) = try await DirectLink.connect(township, to: county)
        try await TownshipSync(township: township, link: link, options: options).run(start, outbox: once(), pull: never())
    }
    if pull {
        let (link, start) = try await DirectLink.connect(township, to: county)
        try await TownshipSync(township: township, link: link, options: options).run(start, outbox: never(), pull: once())
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
        let head = try #require(try await office.store.read { try $0.head(at: 10) })
        _ = try await county.push(PushBatch(records: first.map(\.record), after: 0, upto: 10, head: head), from: agent)
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

/// A link to the county whose answers wait until the test lets them through, so a test sees what
/// the township sends while its pushes await their answers. The county applies each push when it
/// is sent, as the coordinator does; only the answer is held.
actor HeldAnswers: CountyLink {
    let direct: DirectLink
    /// The `upto` of each push, as it is sent.
    nonisolated let sends: AsyncStream<Int64>
    private let sent: AsyncStream<Int64>.Continuation
    private var released = false
    private var held: [CheckedContinuation<Void, Never>] = []

    init(_ direct: DirectLink) {
        self.direct = direct
        (sends, sent) = AsyncStream.makeStream()
    }

    func send(_ batch: OutboxBatch) async throws -> PendingReceipt {
        let pending = await direct.send(batch)
        sent.yield(batch.upto)
        return PendingReceipt {
            await self.gate()
            return try await pending.receipt()
        }
    }

    func pull(since: Int64, limit: Int) async throws -> PulledPage {
        try await direct.pull(since: since, limit: limit)
    }

    /// Lets every answer through, held or to come.
    func release() {
        released = true
        for answer in held { answer.resume() }
        held = []
    }

    private func gate() async {
        if released { return }
        await withCheckedContinuation { held.append($0) }
    }
}

@Suite struct PushWindowTests {
    /// Live county (sunshine-bench live): a clerk's ballot written while a push awaits its answer
    /// went out only after that answer and the township's own commit of it. Now it goes at once,
    /// and the answers are noted when they come.
    @Test(.timeLimit(.minutes(1))) func aBallotWrittenWhileAPushAwaitsItsAnswerIsSentAtOnce() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let office = Township(store: InMemoryStore(node: "township-01"))
        try await office.record(paper(1))
        let (direct, start) = try await DirectLink.connect(office, to: county)
        let link = HeldAnswers(direct)
        let (outbox, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let session = Task { try await TownshipSync(township: office, link: link).run(start, outbox: outbox, pull: never()) }
        var sends = link.sends.makeAsyncIterator()
        #expect(await sends.next() == 1)

        try await office.record(paper(2))
        wake.yield()
        #expect(await sends.next() == 2, "sent while the first push still awaits its answer")
        #expect(try await office.outbox().unsent == 2, "nothing is noted as acknowledged before the county answers")

        await link.release()
        wake.finish()
        try await session.value
        #expect(try await office.outbox().unsent == 0, "both answers noted")
        #expect(try await county.status().totals.ballots == 2)
    }
}
