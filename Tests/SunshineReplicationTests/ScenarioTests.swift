import Foundation
import SunshineAgent
import SunshineCoordinator
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import SunshineWire
import Testing

/// The behaviours of issue 3, each with real agents, a real coordinator, real TLS on loopback and
/// real SQLite files.
@Suite(.timeLimit(.minutes(3))) struct ScenarioTests {
    private func drained(_ stores: [any ReplicaStore]) async throws -> Bool {
        for store in stores where try await Township(store: store).outbox().unsent > 0 { return false }
        return true
    }

    @Test func townshipsRecordWhileTheCoordinatorIsDownAndEverythingArrivesExactlyOnce() async throws {
        let cluster = try Cluster()
        let townships = ["township-01", "township-02", "township-03"]
        let stores = try townships.map { try cluster.store($0) }
        // Reserve a port, then take the coordinator down before any agent starts.
        let reserved = try await cluster.startCoordinator(store: try cluster.store("coordinator", file: "scratch"))
        let endpoint = reserved.endpoint
        await reserved.stop()
        let agents = try townships.indices.map { try cluster.agent(townships[$0], store: stores[$0], coordinator: endpoint, batch: 25) }
        agents.forEach { $0.start() }
        for (index, store) in stores.enumerated() {
            let office = Township(store: store)
            for serial in 1...(100 + index * 30) { try await office.record(paper(serial, station: "s0\(index + 1)")) }
            try await office.write(Finding(team: "team", category: "atmosphere", severity: .low, status: .open, title: "Crowded hall"), id: "hall")
        }
        for store in stores { #expect(try await Township(store: store).outbox().unsent > 100) }

        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"), port: endpoint.port)
        try await eventually("every outbox drains") { try await drained(stores) }
        let versions = try await coordinator.county.store.versionCounts(kind: .ballot)
        #expect(versions.count == 100 + 130 + 160)
        #expect(versions.values.allSatisfy { $0 == 1 }, "each ballot stored exactly once")
        let status = try await coordinator.county.status()
        #expect(status.townships.map(\.ballots) == [100, 130, 160])
        #expect(status.townships.map(\.checkpoint) == [101, 131, 161])
        // Findings are county-wide: every township ends up holding all three.
        try await eventually("every township holds every finding") {
            for store in stores where try await store.read({ try $0.currentRecords(kind: .finding) }).count < 3 { return false }
            return true
        }
        for agent in agents { await agent.stop() }
        await coordinator.stop()
    }

    @Test func anAgentKilledMidPushLosesAndDuplicatesNothing() async throws {
        let cluster = try Cluster()
        let store = try cluster.store("township-02")
        let office = Township(store: store)
        for serial in 1...1_500 { try await office.record(paper(serial)) }
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        let agent = try cluster.agent("township-02", store: store, coordinator: coordinator.endpoint, batch: 20, window: 4)
        agent.start()
        try await eventually("the first pushes are answered") { agent.pushes >= 3 }
        await agent.stop()  // cancelled with pushes in flight: a crash as far as the protocol can tell
        let partial = try await coordinator.checkpoint("township-02")
        #expect(partial > 0 && partial < 1_500, "the agent was stopped in the middle (checkpoint \(partial))")

        // Restarted, with the same store and no memory of what it sent.
        let restarted = try cluster.agent("township-02", store: store, coordinator: coordinator.endpoint, batch: 20, window: 4)
        restarted.start()
        try await eventually("the outbox drains") { try await drained([store]) }
        let versions = try await coordinator.county.store.versionCounts(kind: .ballot)
        #expect(versions.count == 1_500)
        #expect(versions.values.allSatisfy { $0 == 1 }, "a re-sent version is a duplicate, not a second ballot")
        #expect(try await coordinator.checkpoint("township-02") == 1_500)
        await restarted.stop()
        await coordinator.stop()
    }

    @Test func aCoordinatorRestoredFromAnOlderCopyGetsEverythingBack() async throws {
        let cluster = try Cluster()
        let townships = ["township-01", "township-02"]
        let stores = try townships.map { try cluster.store($0) }
        let coordinatorStore = try cluster.store("coordinator")
        let coordinator = try await cluster.startCoordinator(store: coordinatorStore)
        let agents = try townships.indices.map { try cluster.agent(townships[$0], store: stores[$0], coordinator: coordinator.endpoint) }
        agents.forEach { $0.start() }
        for store in stores { for serial in 1...50 { try await Township(store: store).record(paper(serial)) } }
        try await eventually("the first 50 arrive") { try await drained(stores) }
        let backup = cluster.directory + "/coordinator-backup.sqlite"
        try await coordinatorStore.backup(to: backup)

        for store in stores { for serial in 51...120 { try await Township(store: store).record(paper(serial)) } }
        try await eventually("the next 70 arrive") { try await drained(stores) }
        await coordinator.stop()

        // The county's disk fails; yesterday's copy is restored on the same address.
        let restored = try await cluster.startCoordinator(store: try SQLiteStore(path: backup, node: "coordinator"), port: coordinator.endpoint.port)
        #expect(try await restored.checkpoint("township-01") == 50)
        try await eventually("the agents re-send what the restored copy lacks") {
            try await restored.county.store.versionCounts(kind: .ballot).count == 240
        }
        let versions = try await restored.county.store.versionCounts(kind: .ballot)
        #expect(versions.values.allSatisfy { $0 == 1 })
        #expect(try await restored.checkpoint("township-02") == 120)
        for agent in agents { await agent.stop() }
        await restored.stop()
    }

    @Test func concurrentEditsOfAFindingAreKeptAndConvergeThenResolveEverywhere() async throws {
        let cluster = try Cluster()
        let stores = try ["township-01", "township-02"].map { try cluster.store($0) }
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        let township = try cluster.agent("township-01", store: stores[0], coordinator: coordinator.endpoint)
        let neighbour = try cluster.agent("township-02", store: stores[1], coordinator: coordinator.endpoint)
        township.start()
        neighbour.start()
        let key = "finding/township-01/seal"
        let office = Township(store: stores[0])
        try await office.write(Finding(team: "team-01", category: "procedure", severity: .medium, status: .open, title: "Seal"), id: "seal")
        try await eventually("the finding reaches the neighbour") { try await stores[1].read { try $0.current(of: key) } != nil }

        // The township goes offline and edits; the county edits the same version meanwhile.
        await township.stop()
        try await office.write(Finding(team: "team-01", category: "procedure", severity: .high, status: .investigating, title: "Seal number differs", notes: ["photo"]), id: "seal")
        let countyEdit = Finding(team: "team-01", category: "procedure", severity: .low, status: .resolved, title: "Seal confirmed", notes: ["county visit"])
        try await cluster.connect(to: coordinator.endpoint) { county in
            _ = try await county.call(Method.put, params: PutParams(kind: "finding", key: key, data: countyEdit.json), returning: VersionResult.self)
        }
        township.start()

        try await eventually("one open conflict with both versions") {
            try await coordinator.county.conflicts().conflicts.first?.siblings.count == 2
        }
        #expect(try await coordinator.county.store.read { try $0.history(of: key) }.count == 3, "both edits kept in history")
        try await eventually("the township and the neighbour show the coordinator's current value") {
            // Siblings are a set: each store lists them in the order it received them.
            func view(_ store: any ReplicaStore) async throws -> (value: Record, siblings: Set<Record>)? {
                try await store.read { try $0.current(of: key) }.map { ($0.value, Set($0.siblings)) }
            }
            let coordinatorView = try await view(coordinator.county.store)
            let townshipView = try await view(stores[0])
            let neighbourView = try await view(stores[1])
            return coordinatorView?.siblings.count == 2
                && townshipView?.value == coordinatorView?.value && townshipView?.siblings == coordinatorView?.siblings
                && neighbourView?.value == coordinatorView?.value && neighbourView?.siblings == coordinatorView?.siblings
        }
        let merged = try #require(try await coordinator.county.store.read { try $0.current(of: key) }?.value)
        #expect(try RecordRules.finding(merged.data).status == .investigating)
        #expect(try RecordRules.finding(merged.data).title == "Seal confirmed")

        let resolution = Finding(team: "team-01", category: "procedure", severity: .high, status: .investigating, title: "Seal number differs", notes: ["photo", "county visit"])
        let answer = try await cluster.connect(to: coordinator.endpoint) { county in
            try await county.call(Method.resolve, params: ResolveParams(key: key, data: resolution.json), returning: VersionResult.self)
        }
        let resolved = try Record(json: answer.record)
        for sibling in try await coordinator.county.store.read({ try $0.history(of: key) }).map(\.record) {
            #expect(resolved.clock.dominates(sibling.clock))
        }
        try await eventually("the conflict is closed everywhere") {
            for store in [coordinator.county.store] + stores {
                let current = try await store.read { try $0.current(of: key) }
                let open = try await store.read { try $0.openConflicts().count }
                if current?.siblings != [resolved] || open != 0 { return false }
            }
            return true
        }
        await township.stop()
        await neighbour.stop()
        await coordinator.stop()
    }

    @Test func rolesAreEnforcedOnEveryMethod() async throws {
        let cluster = try Cluster()
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        try await cluster.connect(as: "township-01", role: .agent, to: coordinator.endpoint) { agent in
            for method in [Method.status, Method.tally, Method.conflicts] {
                await #expect(throws: RPCError.self) { _ = try await agent.call(method, params: EmptyResult(), returning: EmptyResult.self) }
            }
            do {
                _ = try await agent.call(Method.put, params: PutParams(kind: "contest", key: "contest/county/x", data: sampleContest.json), returning: VersionResult.self)
                Issue.record("an agent published a contest")
            } catch let error as RPCError {
                #expect(error.known == .forbidden)
            }
            // The connection is kept after a forbidden call.
            _ = try await agent.call(Method.pull, params: PullParams(since: 0), returning: PullResult.self)
        }
        try await cluster.connect(to: coordinator.endpoint) { county in
            do {
                _ = try await county.call(Method.push, params: PushParams(records: [], after: 0, upto: 0), returning: PushResult.self)
                Issue.record("an operator pushed")
            } catch let error as RPCError {
                #expect(error.known == .forbidden)
                #expect(error.message.contains("put, resolve and closeRound"))
            }
            _ = try await county.call(Method.status, params: EmptyResult(), returning: StatusResult.self)
        }
        await coordinator.stop()
    }

    @Test func aRejectedRecordKeepsTheConnectionAndTheRestOfTheBatch() async throws {
        let cluster = try Cluster()
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        try await cluster.connect(as: "township-01", role: .agent, to: coordinator.endpoint) { agent in
            let mine = Record(key: paper(1).key(township: "township-01"), kind: .ballot, township: "township-01",
                              clock: VersionVector(["township-01": 1]), origin: "township-01", at: "", data: paper(1).json)
            let theirs = Record(key: paper(1).key(township: "township-02"), kind: .ballot, township: "township-02",
                                clock: VersionVector(["township-02": 1]), origin: "township-02", at: "", data: paper(1).json)
            let result = try await agent.call(Method.push, params: PushParams(records: [theirs.json, mine.json], after: 0, upto: 2, head: someHead), returning: PushResult.self)
            #expect(result.accepted == 1)
            #expect(result.rejected.map(\.reason) == ["forbidden"])
            #expect(!agent.isClosed)
            _ = try await agent.call(Method.ping, params: PingParams(), returning: EmptyResult.self)
            // Params that are not a push at all: invalid_params, and still the connection stays.
            do {
                _ = try await agent.call(Method.push, params: ["records": "none"] as JSONValue, returning: PushResult.self)
                Issue.record("a malformed push was accepted")
            } catch let error as RPCError {
                #expect(error.known == .invalidParams)
            }
            _ = try await agent.call(Method.ping, params: PingParams(), returning: EmptyResult.self)
        }
        #expect(try await coordinator.county.status().totals.ballots == 1)
        await coordinator.stop()
    }

    @Test func statusShowsWhoIsOnlineAndWhatTheyLastReported() async throws {
        let cluster = try Cluster()
        let store = try cluster.store("township-03")
        for serial in 1...5 { try await Township(store: store).record(paper(serial)) }
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        let agent = try cluster.agent("township-03", store: store, coordinator: coordinator.endpoint)
        agent.start()
        try await eventually("a ping reports an empty outbox") {
            let row = try await coordinator.county.status().townships.first { $0.node == "township-03" }
            return row?.online == true && row?.outbox == 0 && row?.reportedSeq == 5 && row?.ballots == 5
        }
        await agent.stop()
        try await eventually("the township shows offline") {
            try await coordinator.county.status().townships.first { $0.node == "township-03" }?.online == false
        }
        await coordinator.stop()
    }
}
