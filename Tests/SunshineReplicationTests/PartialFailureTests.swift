import Foundation
import NIOConcurrencyHelpers
import SunshineAgent
import SunshineCounty
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import SunshineWire
import Testing

/// The review's findings that need the whole path — real agents, a real coordinator, TLS on
/// loopback, SQLite files — with a real fault injected: a commit or read that fails, frames near
/// the limit, a peer that stops reading.
@Suite(.timeLimit(.minutes(3))) struct PartialFailureTests {
    private func ballots(at coordinator: Cluster.Coordinator) async throws -> [String: Int] {
        try await coordinator.county.store.versionCounts(kind: .ballot)
    }

    private func connections(_ agent: Cluster.Agent) -> Int {
        agent.events.withLockedValue { $0.filter { if case .connected = $0 { true } else { false } }.count }
    }

    /// Findings 1 and 3: a commit fails at the coordinator while pushes are pipelined. The failed
    /// push ends the session (no wedged "online but never syncing" state), the batches after it are
    /// refused as out of order instead of skipping it, and the agent resumes by itself.
    @Test func aCommitFailureEndsTheSessionAndTheAgentResumesByItself() async throws {
        let cluster = try Cluster()
        let faulty = FaultyStore(try cluster.store("coordinator"))
        let coordinator = try await cluster.startCoordinator(store: faulty)
        let store = try cluster.store("township-01")
        for serial in 1...400 { try await Township(store: store).record(paper(serial)) }
        faulty.failCommit(3)  // the hello, push 1, then push 2 fails while 3 and 4 are in flight
        let agent = try cluster.agent("township-01", store: store, coordinator: coordinator.endpoint, batch: 50, window: 4)
        agent.start()
        try await eventually("every ballot arrives") { try await ballots(at: coordinator).count == 400 }
        #expect(try await ballots(at: coordinator).values.allSatisfy { $0 == 1 })
        #expect(connections(agent) >= 2, "the agent reconnected after the failed push")
        try await eventually("the outbox drains and is reported") {
            let unsent = try await Township(store: store).outbox().unsent
            let reported = try await coordinator.county.status().townships.first { $0.node == "township-01" }?.outbox
            return unsent == 0 && reported == 0
        }
        await agent.stop()
        await coordinator.stop()
    }

    /// Finding 3 for pulls: a failed pull ends the session too, and the agent catches up after reconnecting.
    @Test func aFailedPullEndsTheSessionAndTheAgentCatchesUp() async throws {
        let cluster = try Cluster()
        let faulty = FaultyStore(try cluster.store("coordinator"))
        let coordinator = try await cluster.startCoordinator(store: faulty)
        _ = try await coordinator.county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        faulty.failReads(4)  // reads a hello causes fail too; the first pulls surely do
        let store = try cluster.store("township-01")
        let agent = try cluster.agent("township-01", store: store, coordinator: coordinator.endpoint)
        agent.start()
        try await eventually("the contest arrives") { try await store.read { try $0.current(of: Contest.key("committee-2026")) } != nil }
        #expect(connections(agent) >= 2, "the agent reconnected after the failed pull")
        await agent.stop()
        await coordinator.stop()
    }

    /// Finding 2: batches and pages near and over the frame limit. 200 findings of ~15 KB are three
    /// frames' worth; a township announcing a 256 KiB maxFrame pulls 300 of them in pages that fit.
    @Test func longFindingsTravelInBatchesAndPagesThatFitTheFrames() async throws {
        let cluster = try Cluster()
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        let writer = try cluster.store("township-01")
        let text = String(repeating: "Seal checked against the log; the number differs by one digit. ", count: 62)
        for index in 1...200 {
            try await Township(store: writer).write(
                Finding(team: "t", category: "c", severity: .low, status: .open, title: "f\(index)", details: text, notes: [text, text]), id: "f\(index)"
            )
        }
        for index in 1...100 {
            _ = try await coordinator.county.put(
                kind: .finding, key: "finding/county/c\(index)",
                data: Finding(team: "county", category: "c", severity: .low, status: .open, title: "c\(index)", details: text, notes: [text, text]).json,
                deleted: false
            )
        }
        let sender = try cluster.agent("township-01", store: writer, coordinator: coordinator.endpoint)
        sender.start()
        try await eventually("200 long findings arrive") { try await coordinator.county.status().totals.findings == 300 }

        let reader = try cluster.store("township-02")
        let small = try cluster.agent("township-02", store: reader, coordinator: coordinator.endpoint, maxFrame: 256 * 1_024)
        small.start()
        try await eventually("a small-framed township pulls all 300") { try await reader.read { try $0.currentRecords(kind: .finding) }.count == 300 }
        let pulls = small.events.withLockedValue { $0.compactMap { if case .synced(.pulled(let count, _)) = $0 { count } else { nil } } }
        #expect(pulls.count >= 5, "pages were cut to the township's frame (\(pulls))")
        await sender.stop()
        await small.stop()
        await coordinator.stop()
    }

    /// Finding 6: one agent stops reading its socket. Notifications meant for it are only posted,
    /// so other clients' answers never wait for it; and once its writes have been stuck for three
    /// heartbeats, the coordinator closes it.
    @Test func aPeerThatStopsReadingNeverDelaysTheOthersAndIsClosed() async throws {
        let cluster = try Cluster()
        let heartbeat = Duration.milliseconds(2_000)
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"), heartbeat: .milliseconds(2_000))
        let text = String(repeating: "A long account of the polling station's morning. ", count: 70)
        for index in 1...300 {
            _ = try await coordinator.county.put(
                kind: .finding, key: "finding/county/f\(index)",
                data: Finding(team: "county", category: "c", severity: .low, status: .open, title: "f\(index)", details: text).json, deleted: false
            )
        }
        try await withRawClient(to: coordinator.endpoint, pki: cluster.pki, node: "township-02", watchdog: .seconds(60)) { stalled in
            try await stalled.sendHello(as: "township-02")
            // Ask for many pages and read nothing: answers pile up until its socket is full
            // (eleven pages of up to 1 MiB are more than loopback's buffers hold; more would only
            // keep the coordinator's two cores busy encoding them on a loaded machine).
            for id in 2...12 {
                try await stalled.send(frame: #"{"jsonrpc":"2.0","id":\#(id),"method":"pull","params":{"since":0,"limit":2000}}"#)
            }
            // Let the coordinator answer what it can; the rest of its writes to this peer now wait.
            try await Task.sleep(for: heartbeat)
            let clock = ContinuousClock()
            try await cluster.connect(to: coordinator.endpoint) { county in
                for index in 1...10 {
                    let started = clock.now
                    _ = try await county.call(
                        Method.put,
                        params: PutParams(kind: "finding", key: "finding/county/new\(index)", data: Finding(team: "c", category: "c", severity: .low, status: .open, title: "n").json),
                        returning: VersionResult.self
                    )
                    #expect(clock.now - started < heartbeat, "an operator's put waited for the stalled agent")
                }
            }
            try await eventually("the stalled agent is closed", seconds: 20) {
                try await coordinator.county.status().townships.first { $0.node == "township-02" }?.online == false
            }
        }
        await coordinator.stop()
    }
}

/// The clerk's path to the county has no polling interval: a clerk's command in another process
/// commits, and the agent hears of it from the store's files (DESIGN §1; issue "fast enough").
@Suite(.timeLimit(.minutes(2))) struct ClerkNotificationTests {
    @Test func aBallotRecordedByAnotherProcessLeavesWithoutWaitingForAPoll() async throws {
        let cluster = try Cluster()
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        let store = try cluster.store("township-01")
        // The fallback poll is an hour away: only the watch on the store's files can wake the agent.
        let agent = try cluster.agent(
            "township-01", store: store, coordinator: coordinator.endpoint, outboxPoll: .seconds(3_600), watchedOutboxPoll: .seconds(3_600)
        )
        agent.start()
        try await eventually("the agent is connected") { agent.events.withLockedValue { $0.contains { if case .connected = $0 { true } else { false } } } }
        try await Task.sleep(for: .milliseconds(300))
        for serial in 1...3 {
            let result = try runProcess(SunshineExecutable.path, [
                "ballot", "add", "--node", "township-01", "--data", cluster.directory, "--contest", "committee-2026", "--round", "vote-1",
                "--station", "s01", "--serial", "\(serial)", "--choice", "cand-01",
            ])
            #expect(result.status == 0, "\(result.output)")
        }
        try await eventually("the clerk's ballots reach the county", seconds: 20) { try await coordinator.county.status().totals.ballots == 3 }
        await agent.stop()
        await coordinator.stop()
    }
}

/// Who is online stays true when a session is refused.
@Suite(.timeLimit(.minutes(2))) struct PresenceTests {
    /// A second connection of a township that the coordinator refuses (every authenticated slot is
    /// taken) must not count the township's first, working connection out.
    @Test func aRefusedSecondConnectionLeavesTheTownshipOnline() async throws {
        let cluster = try Cluster()
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator")) { $0.limits.established = 1 }
        let agent = try cluster.agent("township-01", store: try cluster.store("township-01"), coordinator: coordinator.endpoint)
        agent.start()
        try await eventually("township-01 is online") { try await coordinator.county.status().townships.first { $0.node == "township-01" }?.online == true }
        await #expect(throws: (any Error).self) {
            try await cluster.connect(as: "township-01", role: .agent, to: coordinator.endpoint) { _ in }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await coordinator.county.status().townships.first { $0.node == "township-01" }?.online == true)
        await agent.stop()
        await coordinator.stop()
    }

    /// Review (issue 7): a coordinator restored from a backup wrote under its earlier counters, so
    /// a contest published after the restore had the same clock as a lost one with other content.
    /// Every start of the coordinator takes a new actor: its versions are concurrent, never equal.
    @Test func aRestartedCoordinatorNeverReusesItsCounters() async throws {
        let cluster = try Cluster()
        let store = try cluster.store("coordinator")
        let first = try await cluster.startCoordinator(store: store)
        _ = try await first.county.put(kind: .contest, key: Contest.key("c1"), data: sampleContest.json, deleted: false)
        try await store.backup(to: "\(cluster.directory)/coordinator.backup.sqlite")
        var lostContest = sampleContest
        lostContest.title = "Lost in the restore"
        let lost = try await first.county.put(kind: .contest, key: Contest.key("c1"), data: lostContest.json, deleted: false)
        await first.stop()

        let second = try await cluster.startCoordinator(store: try cluster.store("coordinator", file: "coordinator.backup"))
        var republished = sampleContest
        republished.title = "Re-published after the restore"
        let after = try await second.county.put(kind: .contest, key: Contest.key("c1"), data: republished.json, deleted: false)
        await second.stop()
        #expect(after.record.clock != lost.record.clock, "a counter of the lost version is never used again")
        #expect(after.record.clock.compare(lost.record.clock) == .concurrent, "the two show as a conflict wherever both arrive")
    }
}
