import Foundation
import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineTestSupport
@testable import SunshineTownship
import Testing

/// The partial failures the review found, each reproduced with the real county and township cores
/// on in-memory stores and a fault injected into a real component (DESIGN §3.3–3.6).
@Suite struct NothingLostTests {
    private func township(_ node: String = "township-01") -> Township {
        Township(store: InMemoryStore(node: node))
    }

    /// A new, empty directory for backups.
    private func scratchDirectory(_ name: String) throws -> String {
        let directory = NSTemporaryDirectory() + name + "-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The county's store restored from `backup` and started, as a restarted coordinator starts:
    /// with a new actor.
    private func restartedCounty(from backup: String) async throws -> InMemoryStore {
        let store = try InMemoryStore(contentsOf: backup, node: "coordinator")
        try await store.write { try $0.beginIncarnation() }
        return store
    }

    /// A county with township-01's contest and five of its papers, the first three in a backup
    /// taken between them: the start of every closure-and-restore story.
    private func papersAcrossABackup(_ name: String) async throws -> (county: County, office: Township, backup: String) {
        let backup = try scratchDirectory(name) + "/county.backup"
        let original = InMemoryStore(node: "coordinator")
        let county = County(store: original)
        let office = township()
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        for serial in 1...3 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county)
        try await original.backup(to: backup)
        for serial in 4...5 { try await office.record(paper(serial)) }  // after the backup: acknowledged, in time
        try await syncOnce(office, with: county)
        return (county, office, backup)
    }

    private func storeID(_ township: Township) async throws -> String {
        try await township.store.read { try $0.identity().storeID }
    }

    private func ballots(at county: County) async throws -> [String: Int] {
        try await county.store.read { reader in
            try reader.changes(after: 0, for: nil, limit: 1_000_000).filter { $0.record.kind == .ballot }
                .reduce(into: [:]) { counts, version in counts[version.record.key, default: 0] += 1 }
        }
    }

    /// Finding 1: push k's commit fails while pipelined push k+1 commits; the checkpoint must not
    /// jump over k, and k's ballots must arrive when the township syncs again.
    @Test func aFailedCommitInAWindowOfPushesLosesNothing() async throws {
        let faulty = FaultyStore(InMemoryStore(node: "coordinator"))
        let county = County(store: faulty)
        let office = township()
        for serial in 1...400 { try await office.record(paper(serial)) }
        // Commits from now: the hello, then pushes 1, 2 (fails), 3, 4 of a window of 4.
        faulty.failCommit(3)
        await #expect(throws: (any Error).self) { try await syncOnce(office, with: county, batch: 50, window: 4, pull: false) }
        let agent = AgentSession(node: "township-01", store: try await storeID(office))
        #expect(try await county.checkpoint(of: agent) == 50, "the checkpoint stops before the failed batch")
        #expect(try await office.outbox().unsent == 350, "the township still counts the failed batch as unsent")
        #expect(try await county.status().totals.ballots == 50, "nothing after the failed batch was applied out of order")

        try await syncOnce(office, with: county, batch: 50, window: 4, pull: false)
        let held = try await ballots(at: county)
        #expect(held.count == 400 && held.values.allSatisfy { $0 == 1 }, "every ballot exactly once")
        #expect(try await office.outbox().unsent == 0)
    }

    /// "Pushes in flight can reach the coordinator out of order": a batch that arrives before the one
    /// it continues from is refused whole, and nothing is skipped.
    @Test func aBatchArrivingBeforeTheOneItContinuesFromIsRefusedWhole() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let office = township()
        for serial in 1...20 { try await office.record(paper(serial)) }
        let agent = AgentSession(node: "township-01", store: try await storeID(office))
        let versions = try await office.store.read { try $0.outbox(of: "township-01", after: 0, limit: 20) }.map(\.record)
        await #expect(throws: CountyError.outOfOrder(checkpoint: 0)) {
            _ = try await county.push(PushBatch(records: Array(versions[10...]), after: 10, upto: 20, head: someHead), from: agent)
        }
        _ = try await county.push(PushBatch(records: Array(versions[..<10]), after: 0, upto: 10, head: someHead), from: agent)
        _ = try await county.push(PushBatch(records: Array(versions[10...]), after: 10, upto: 20, head: someHead), from: agent)
        #expect(try await county.checkpoint(of: agent) == 20)
        #expect(try await ballots(at: county).count == 20)
    }

    /// Finding 2: 200 long findings are far more than one frame; batches are cut by bytes, so none
    /// is ever built that the county must refuse, and none is skipped.
    @Test func batchesAndPagesAreBoundedInBytesNotOnlyInRecords() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let office = township()
        let long = String(repeating: "The seal number was checked against the log and photographed. ", count: 60)  // ~3.8 KB
        for index in 1...200 {
            try await office.write(Finding(team: "t", category: "c", severity: .low, status: .open, title: "f\(index)", details: long, notes: [long, long]), id: "f\(index)")
        }
        let (link, start) = try await DirectLink.connect(office, to: county)
        var options = TownshipSync.Options()
        options.batch = 200
        let sync = TownshipSync(township: office, link: link, options: options)
        let first = try #require(try await sync.nextBatch(after: 0, bytes: start.batchBytes))
        #expect(first.records.count < 200, "one batch of 200 long findings would not fit a frame")
        #expect(first.records.reduce(0) { $0 + $1.canonical.utf8.count } <= start.batchBytes)
        try await sync.run(start, outbox: once(), pull: never())
        #expect(try await county.status().totals.findings == 200)

        // Pages to another township are bounded by its frame the same way, and all arrive.
        let page = try await county.pull(since: 0, limit: 2_000, maxBytes: 200_000, for: Routing.Reader(township: "township-02", store: "x"))
        #expect(page.more && page.records.count < 200 && page.records.reduce(0) { $0 + $1.canonical.utf8.count } <= 200_000)
        let neighbour = township("township-02")
        try await syncOnce(neighbour, with: county, push: false)
        #expect(try await neighbour.store.read { try $0.currentRecords(kind: .finding) }.count == 200)
    }

    /// Finding 4: a township PC rebuilt with an empty store. Its new ballots are sent although their
    /// sequence numbers are below the old store's checkpoint, its earlier records come back to it,
    /// and an offline edit of a finding it wrote before is concurrent with — never older than — the
    /// earlier version.
    @Test func aRebuiltTownshipStoreSendsEverythingAndGetsItsRecordsBack() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let old = township()
        for serial in 1...100 { try await old.record(paper(serial)) }
        let earlier = try await old.write(Finding(team: "t", category: "c", severity: .low, status: .open, title: "Seal", notes: ["a"]), id: "seal")
        try await old.write(Finding(team: "t", category: "c", severity: .medium, status: .open, title: "Seal", notes: ["a", "b"]), id: "seal")
        try await syncOnce(old, with: county, pull: false)

        let rebuilt = township()  // the same township, a new empty store
        #expect(try await storeID(rebuilt) != storeID(old))
        for serial in 101...150 { try await rebuilt.record(paper(serial)) }
        let edit = try await rebuilt.write(Finding(team: "t", category: "c", severity: .high, status: .investigating, title: "Seal"), id: "seal")
        #expect(edit.clock.compare(earlier.clock) == .concurrent, "a new incarnation never writes an older or equal clock")
        try await syncOnce(rebuilt, with: county)

        let held = try await ballots(at: county)
        #expect(held.count == 150 && held.values.allSatisfy { $0 == 1 })
        #expect(try await rebuilt.store.read { try $0.currentValues(kind: .ballot) }.count == 150, "its earlier ballots came back")
        let seal = try #require(try await county.store.read { try $0.current(of: "finding/township-01/seal") })
        #expect(seal.siblings.count == 2 && seal.conflict == .concurrent, "both edits kept; nothing older silently wins")
        #expect(try await rebuilt.store.read { try $0.current(of: "finding/township-01/seal") }?.siblings.count == 2)
    }

    /// Finding 5: the county is restored from a backup. A township edit that descends from a county
    /// version the restore lost is held aside, not dropped; the county's lost versions that
    /// townships hold come back aside too; a township whose pull position lies beyond the restored
    /// log is told to pull again and receives what the county writes after the restore; and an
    /// operator re-publishing the record brings every replica to the same state.
    @Test func aCountyRestoredFromABackupIsHealedWithoutLosingAnything() async throws {
        let directory = try scratchDirectory("sunshine-restore")
        let original = InMemoryStore(node: "coordinator")
        let county = County(store: original)
        let office = township()
        let key = "finding/township-01/seal"
        try await office.write(Finding(team: "t", category: "c", severity: .low, status: .open, title: "Seal"), id: "seal")
        for serial in 1...10 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county)
        try await original.backup(to: directory + "/county.backup")

        // After the backup: the county edits the finding and publishes a contest; the township pulls both.
        _ = try await county.put(kind: .finding, key: key, data: Finding(team: "t", category: "c", severity: .high, status: .investigating, title: "Seal broken").json, deleted: false)
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        try await syncOnce(office, with: county, push: false)
        // The township edits on top of the county's edit, records more, and pushes.
        try await office.write(Finding(team: "t", category: "c", severity: .high, status: .investigating, title: "Seal broken", notes: ["photo"]), id: "seal")
        for serial in 11...20 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county, pull: false)

        // The county's disk fails; last night's copy comes back, as a new incarnation of the county.
        let restoredStore = try await restartedCounty(from: directory + "/county.backup")
        let restored = County(store: restoredStore)
        let late = try await restored.put(kind: .finding, key: "finding/county/after-restore", data: Finding(team: "t", category: "c", severity: .low, status: .open, title: "Written after the restore").json, deleted: false)

        try await syncOnce(office, with: restored)
        #expect(try await ballots(at: restored).count == 20, "the township re-sent what the restore lost")
        #expect(try await office.store.read { try $0.current(of: late.record.key) } != nil, "the township pulled what was written after the restore")
        let aside = try await restored.rejected(township: nil, limit: nil).refusals
        #expect(aside.contains { $0.key == key && $0.reason == "forged_clock" }, "the township's edit is held aside, not dropped")
        #expect(aside.contains { $0.key == key && $0.reason == "forbidden" }, "the county's lost edit came back, held aside")
        #expect(aside.contains { $0.key == Contest.key("committee-2026") }, "the county's lost contest came back, held aside")
        #expect(try await restored.status().totals.rejected == aside.count)

        // The operator re-publishes what was held aside; every replica converges.
        for record in Set(aside.map(\.key)) {
            let kind: RecordKind = record.hasPrefix("contest/") ? .contest : .finding
            let data = try #require(try JSONParser.parse(aside.last { $0.key == record }!.version)["data"])
            _ = try await restored.put(kind: kind, key: record, data: data, deleted: false)
        }
        try await syncOnce(office, with: restored)
        for record in [key, Contest.key("committee-2026")] {
            let countyView = try await restored.store.read { try $0.current(of: record) }
            let townshipView = try await office.store.read { try $0.current(of: record) }
            #expect(countyView != nil && countyView == townshipView, "\(record) shows the same state at the county and the township")
            #expect(countyView?.siblings.count == 1)
        }
        // Further township edits of the record are accepted again.
        try await office.write(Finding(team: "t", category: "c", severity: .high, status: .resolved, title: "Seal replaced"), id: "seal")
        try await syncOnce(office, with: restored, pull: false)
        #expect(try await restored.store.read { try $0.current(of: key) }?.value.data["status"] == "resolved")
    }

    /// Review (issue 7): a round closure lived only in the coordinator's own table, so a county
    /// restored from a copy older than the closure counted the round's late papers again. The
    /// closure now travels in the contest's record with the township's store checkpoint at the
    /// close: the township holds it and returns it with the county's other versions, and the
    /// restored county closes the round again knowing which papers were in time — those recorded
    /// after the backup but before the close still count, the late one does not (the attack that
    /// found a first version of this quarantining papers that had been counted: repro-4).
    @Test func aRoundClosureLostInARestoreComesBackFromItsTownship() async throws {
        let (county, office, backup) = try await papersAcrossABackup("sunshine-closure")
        let key = Contest.key("committee-2026")

        let closing = try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true)
        #expect(closing.newlyClosed && closing.written != nil)
        try await syncOnce(office, with: county, push: false)
        let store = try await storeID(office)
        let held = try #require(try await office.store.read { try $0.current(of: key) })
        let checkpoint = try #require(try RecordRules.contest(held.value.data).closed["vote-1"]?[store], "the township holds the closure")
        #expect(checkpoint == (try await county.checkpoint(of: AgentSession(node: "township-01", store: store))))
        // Re-publishing the contest never reopens a round.
        _ = try await county.put(kind: .contest, key: key, data: sampleContest.json, deleted: false)
        #expect(try await county.store.read { try $0.current(of: key) }.map { try RecordRules.contest($0.value.data).closed["vote-1"] } == [store: checkpoint])
        try await syncOnce(office, with: county, push: false)

        let restoredStore = try await restartedCounty(from: backup)
        let restored = County(store: restoredStore)
        #expect(try await restoredStore.read { try $0.isRoundClosed(contest: "committee-2026", round: "vote-1") } == false)
        try await office.record(paper(6))  // a late paper, recorded offline after the close

        try await syncOnce(office, with: restored)
        #expect(try await restoredStore.read { try $0.isRoundClosed(contest: "committee-2026", round: "vote-1") }, "closed again")
        let round = try #require(try await restored.tally(contest: "committee-2026", round: "vote-1").first)
        #expect(round.closed && round.valid == 5 && round.quarantined == 1, "papers in time count, the late one is kept and not counted: \(round)")
        let countyView = try await restoredStore.read { try $0.current(of: key) }
        let townshipView = try await office.store.read { try $0.current(of: key) }
        #expect(countyView != nil && countyView == townshipView, "the county and the township show the same contest")
        #expect(countyView?.siblings.count == 1 && countyView?.inConflict == false)
        #expect(restored.events.latest(20).contains { $0.message.contains("closed again from township-01") })
    }

    /// The second attack round's repro-1 and repro-2: after a coordinator restore, papers in time
    /// re-sent by *another* store of the township — a PC rebuilt after the close, which got them
    /// back from the county — count again: a ballot carries the store that wrote it and as which
    /// change, and is judged by that store's checkpoint at the close, not the re-sender's.
    @Test func papersReSentByAnotherStoreAreJudgedByTheirWriter() async throws {
        let (county, office, backup) = try await papersAcrossABackup("sunshine-writer")
        _ = try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true)

        // The township's PC is rebuilt after the close: its new store gets everything back.
        let rebuilt = township()
        try await syncOnce(rebuilt, with: county)
        let written = try await rebuilt.store.read { try $0.current(of: paper(4).key(township: "township-01")) }?.value.written
        #expect(written?.store == (try await storeID(office)), "a ballot travels with the store that wrote it")
        try await rebuilt.record(paper(6))  // late: recorded after the close

        let restoredStore = try await restartedCounty(from: backup)
        let restored = County(store: restoredStore)
        try await syncOnce(rebuilt, with: restored)
        let round = try #require(try await restored.tally(contest: "committee-2026", round: "vote-1").first)
        #expect(round.closed && round.valid == 5 && round.quarantined == 1, "papers in time count again, the late one does not: \(round)")
    }

    /// The second attack round's repro-3: an operator closing a round on a coordinator restored
    /// from a backup, before the township has re-sent the papers the restore lost, made those
    /// papers late. A coordinator closes a township's round only once the township has reported an
    /// empty outbox since it started (its heartbeat does), unless the operator says otherwise.
    @Test func aRestoredCoordinatorClosesARoundOnlyOnceItsTownshipHasCaughtUp() async throws {
        let (county, office, backup) = try await papersAcrossABackup("sunshine-behind")

        let restoredStore = try await restartedCounty(from: backup)
        let restored = County(store: restoredStore)
        do {
            _ = try await restored.closeRound(contest: "committee-2026", round: "vote-1")
            Issue.record("a round closed before its township caught up")
        } catch let error as CountyError {
            #expect("\(error)".contains("township-01's store \(try await storeID(office))"), "\(error)")
            #expect("\(error)".contains("has not reported an empty outbox since the coordinator started"), "\(error)")
        }
        #expect(try await restoredStore.read { try $0.isRoundClosed(contest: "committee-2026", round: "vote-1") } == false)

        try await syncOnce(office, with: restored)
        restored.presence.heard(from: "township-01", store: try await storeID(office), outbox: try await office.outbox().unsent)  // its heartbeat
        #expect(try await restored.closeRound(contest: "committee-2026", round: "vote-1").newlyClosed)
        try await office.record(paper(6))
        try await syncOnce(office, with: restored)
        let round = try #require(try await restored.tally(contest: "committee-2026", round: "vote-1").first)
        #expect(round.closed && round.valid == 5 && round.quarantined == 1, "\(round)")

        // An operator may still close at once, knowingly.
        #expect(try await restored.closeRound(contest: "committee-2026", round: "vote-2", evenIfBehind: true).newlyClosed)
    }

    /// The third attack round's repro-5: the wait for a township to catch up after a restore
    /// counted townships, not stores — one PC back made a close judge the other PC's re-sent
    /// papers late. Every store the county holds changes of, heard from in the last week, must
    /// have reported an empty outbox.
    @Test func aRestoredCoordinatorWaitsForEveryStoreOfTheTownship() async throws {
        let directory = try scratchDirectory("sunshine-two-pcs")
        let original = InMemoryStore(node: "coordinator")
        let county = County(store: original)
        let first = township(), second = township()
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        try await first.record(paper(1))
        try await second.record(paper(2, station: "s02"))
        try await syncOnce(first, with: county, pull: false)
        try await syncOnce(second, with: county, pull: false)
        try await original.backup(to: directory + "/county.backup")
        for serial in 3...4 { try await second.record(paper(serial, station: "s02")) }
        try await syncOnce(second, with: county, pull: false)

        let restoredStore = try await restartedCounty(from: directory + "/county.backup")
        let restored = County(store: restoredStore)
        try await syncOnce(first, with: restored, pull: false)
        restored.presence.heard(from: "township-01", store: try await storeID(first), outbox: 0)
        do {
            _ = try await restored.closeRound(contest: "committee-2026", round: "vote-1")
            Issue.record("a round closed before every store of its township caught up")
        } catch let error as CountyError {
            #expect("\(error)".contains(try await storeID(second)), "\(error)")
        }
        try await syncOnce(second, with: restored, pull: false)
        restored.presence.heard(from: "township-01", store: try await storeID(second), outbox: 0)
        #expect(try await restored.closeRound(contest: "committee-2026", round: "vote-1").newlyClosed)
        let round = try #require(try await restored.tally(contest: "committee-2026", round: "vote-1").first)
        #expect(round.valid == 4 && round.quarantined == 0, "\(round)")
    }

    /// What a ballot says about its writer is believed only of changes the county no longer holds
    /// that writer's log through: at a county never restored, a late paper claiming an early change
    /// of a store the closure names is late — also once the township has said hello from more
    /// stores than the county keeps, as a closure's stores are never forgotten.
    @Test func aPaperCannotClaimAnEarlierChangeToCountInAClosedRound() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let office = township()
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        for serial in 1...3 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county)
        let store = try await storeID(office)
        _ = try await county.hello(AgentSession(node: "township-01", store: String(format: "%032x", 1)), pulled: nil)  // named at 0
        _ = try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true)
        for fresh in 0...AgentStore.maxPerNode {
            let other = AgentSession(node: "township-01", store: String(format: "%032x", fresh + 1))
            _ = try await county.hello(other, pulled: nil)
        }
        #expect(try await county.store.read { try $0.agentStore(node: "township-01", store: store) } != nil, "a closure's store is kept")

        // The third attack round's repro-4: new papers in a push that moves no checkpoint, from the
        // closure's own store or from one it names at 0, are late.
        try await office.record(paper(8))
        let eighth = try #require(try await office.store.read { try $0.current(of: paper(8).key(township: "township-01")) }?.value)
        let agent = AgentSession(node: "township-01", store: store)
        let at = try await county.checkpoint(of: agent)
        let still = try await county.push(PushBatch(records: [eighth], after: at, upto: at), from: agent)
        #expect(still.rejected.map(\.error.reason) == ["round_closed"], "a push that moves no checkpoint brings nothing in time")
        var legacy = eighth
        legacy.written = nil
        legacy.at = "2026-12-02T00:00:00Z"
        let named = AgentSession(node: "township-01", store: String(format: "%032x", 1))
        let fromNamed = try await county.push(PushBatch(records: [legacy], after: 0, upto: 0), from: named)
        #expect(fromNamed.rejected.map(\.error.reason) == ["round_closed"])

        try await office.record(paper(9))
        var late = try #require(try await office.store.read { try $0.current(of: paper(9).key(township: "township-01")) }?.value)
        late.written = WrittenAt(store: store, seq: 1)
        let forger = AgentSession(node: "township-01", store: String(format: "%032x", 99))
        _ = try await county.hello(forger, pulled: nil)
        let outcome = try await county.push(PushBatch(records: [late], after: 0, upto: 1, head: someHead), from: forger)
        #expect(outcome.rejected.map(\.error.reason) == ["round_closed"])
        let round = try #require(try await county.tally(contest: "committee-2026", round: "vote-1").first)
        #expect(round.valid == 3 && round.quarantined == 2, "papers 8 (twice sent, one key) and 9 are kept, not counted: \(round)")
    }

    /// The third attack round's repro-2: one township's unreadable record under another
    /// township's contest key was held aside, and every later county version of that contest
    /// joined its clock and failed — the operator could neither close nor publish it. A county
    /// version builds only on what the record's own township sent back, and only on valid clocks.
    @Test func anotherTownshipsHeldAsideJunkNeverBlocksAContest() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let key = Contest.key("committee-2026")
        let poison: JSONValue = [
            "key": .string(key), "kind": "contest", "township": "county", "clock": ["not an actor!": 1], "origin": "county",
            "at": "x", "deleted": false, "data": [:],
        ]
        let outsider = AgentSession(node: "township-02", store: String(format: "%032x", 2))
        _ = try await county.hello(outsider, pulled: nil)
        let poisoned = try await county.push(PushBatch(entries: [.unreadable(key: key, error: .invalid("junk"), json: poison)], after: 0, upto: 0), from: outsider)
        #expect(poisoned.rejected.count == 1)
        // The contest's own township sending a counter at the end of the range blocks nothing either.
        let huge = Record(
            key: key, kind: .contest, township: "county", clock: VersionVector(["coordinator.0000000000ff": RecordRules.maxClockCounter]),
            origin: "county", at: "x", data: sampleContest.json)
        let home = AgentSession(node: "township-01", store: String(format: "%032x", 1))
        _ = try await county.hello(home, pulled: nil)
        _ = try await county.push(PushBatch(records: [huge], after: 0, upto: 0), from: home)
        #expect(try await county.store.read { try $0.refusals(key: key) }.count == 2)

        _ = try await county.put(kind: .contest, key: key, data: sampleContest.json, deleted: false)
        #expect(try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true).newlyClosed)
    }

    /// The third attack round's repro-3: a township saying hello from store after store made its
    /// closures name ever more stores until a round could not be closed. A closure names the
    /// stores the county holds changes of, at most ``Contest/maxClosureStores`` heard from last.
    @Test func aTownshipWithManyStoresCanStillHaveItsRoundsClosed() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        var serial = 0
        for round in ["vote-1", "vote-2"] {
            for _ in 0..<(Contest.maxClosureStores + 4) {
                let office = township()
                serial += 1
                try await office.record(paper(serial, round: round))
                try await syncOnce(office, with: county)
            }
            _ = try await county.hello(AgentSession(node: "township-01", store: String(format: "%032x", serial)), pulled: nil)  // holds nothing
            #expect(try await county.closeRound(contest: "committee-2026", round: round, evenIfBehind: true).newlyClosed)
        }
        let contest = try RecordRules.contest(try #require(try await county.store.read { try $0.current(of: Contest.key("committee-2026")) }).value.data)
        #expect(contest.closed.values.allSatisfy { $0.count == Contest.maxClosureStores && $0.values.allSatisfy { $0 > 0 } })
    }

    /// The attack's repro-12: a township that sends a county version of its own contest closing a
    /// round the county has closed cannot move that round's checkpoints; nor can an operator
    /// closing it again.
    @Test func aTownshipCannotMoveAClosuresCheckpoints() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let office = township()
        let key = Contest.key("committee-2026")
        _ = try await county.put(kind: .contest, key: key, data: sampleContest.json, deleted: false)
        for serial in 1...3 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county)
        let store = try await storeID(office)
        let agent = AgentSession(node: "township-01", store: store)
        _ = try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true)
        let closed = try #require(try await county.store.read { try $0.current(of: key) })
        var forged = closed.value
        var widened = try RecordRules.contest(forged.data)
        widened.closed["vote-1"] = [store: 1_000_000]
        widened.closed["vote-2"] = [store: 1_000_000]
        forged.data = widened.closures(into: forged.data)
        forged.clock = forged.clock.incremented(for: "coordinator.000000000000")
        let checkpoint = try await county.checkpoint(of: agent)
        _ = try await county.push(PushBatch(records: [forged], after: checkpoint, upto: checkpoint), from: agent)
        let after = try RecordRules.contest(try #require(try await county.store.read { try $0.current(of: key) }).value.data)
        #expect(after.closed["vote-1"] == [store: checkpoint], "the county's own checkpoint stands")
        #expect(after.closed["vote-2"] == [store: 1_000_000], "a round the county had not closed was taken back as the township said")
        // Closing a closed round again never moves its checkpoints (the second attack round's
        // repro-4: an operator's close during a restore's healing lowered them).
        let again = try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true)
        #expect(again.newlyClosed == false && again.written == nil)
        let final = try RecordRules.contest(try #require(try await county.store.read { try $0.current(of: key) }).value.data)
        #expect(final.closed["vote-1"] == [store: checkpoint])
        try await office.record(paper(7))
        try await syncOnce(office, with: county)
        #expect(try await county.tally(contest: "committee-2026", round: "vote-1").first?.quarantined == 1, "a later paper is late")

        // The third attack round's repro-1: the township's closure of vote-2 claims checkpoints
        // beyond anything the county received; the operator's close holds them to what it holds.
        try await office.record(paper(8, round: "vote-2"))
        try await syncOnce(office, with: county)
        #expect(try await county.tally(contest: "committee-2026", round: "vote-2").first?.valid == 1, "the township's word let it in")
        let held = try await county.checkpoint(of: agent)
        let reclosed = try await county.closeRound(contest: "committee-2026", round: "vote-2", evenIfBehind: true)
        #expect(reclosed.newlyClosed == false && reclosed.written != nil)
        let bounded = try RecordRules.contest(try #require(try await county.store.read { try $0.current(of: key) }).value.data)
        #expect(bounded.closed["vote-2"] == [store: held] && bounded.closed["vote-1"] == [store: checkpoint])
        try await office.record(paper(9, round: "vote-2"))
        try await syncOnce(office, with: county)
        let vote2 = try #require(try await county.tally(contest: "committee-2026", round: "vote-2").first)
        #expect(vote2.valid == 1 && vote2.quarantined == 1, "a paper after the operator's close is late: \(vote2)")
    }

    /// Publishing a contest never closes or reopens a round (the attack's repro-20 and repro-8).
    @Test func publishingAContestNeverClosesOrReopensARound() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let key = Contest.key("committee-2026")
        var closing = sampleContest
        closing.closed = ["vote-2": [:]]
        await #expect(throws: CountyError.self) { _ = try await county.put(kind: .contest, key: key, data: closing.json, deleted: false) }
        _ = try await county.put(kind: .contest, key: key, data: sampleContest.json, deleted: false)
        _ = try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true)
        var dropping = sampleContest
        dropping.rounds = ["vote-2"]
        await #expect(throws: CountyError.self) { _ = try await county.put(kind: .contest, key: key, data: dropping.json, deleted: false) }
        var retitled = sampleContest
        retitled.title = "Renamed"
        _ = try await county.put(kind: .contest, key: key, data: retitled.json, deleted: false)
        let current = try RecordRules.contest(try #require(try await county.store.read { try $0.current(of: key) }).value.data)
        #expect(current.title == "Renamed" && current.closed["vote-1"] != nil)
    }

    /// A township names only its own contest's closures: a contest of another township returned by
    /// it is held aside and closes nothing.
    @Test func aTownshipCannotCloseAnotherTownshipsRound() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        var other = sampleContest
        other.township = "township-02"
        let key = Contest.key("committee-02")
        let published = try await county.put(kind: .contest, key: key, data: other.json, deleted: false)
        var forged = published.record
        var closing = other
        closing.closed = ["vote-1": [:]]
        forged.data = closing.json
        forged.clock = published.record.clock.incremented(for: "coordinator")
        let agent = AgentSession(node: "township-01", store: String(repeating: "a", count: 32))
        let outcome = try await county.push(PushBatch(records: [forged], after: 0, upto: 1, head: someHead), from: agent)
        #expect(outcome.rejected.map(\.error.reason) == ["forbidden"])
        #expect(outcome.reclosed.isEmpty)
        #expect(try await county.store.read { try $0.isRoundClosed(contest: "committee-02", round: "vote-1") } == false)
    }

    /// Review (issue 7): a push with the township's certificate and store id that jumped the
    /// checkpoint over ballots recorded offline made the agent skip them for good, while the clerk
    /// was told everything had arrived. Such a push needs records and a head; a head that is not the
    /// township's own at that position shows at the next hello, and the store sends everything again.
    @Test func aForgedPushCannotHideATownshipsBallots() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let office = township()
        for serial in 1...3 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county)
        for serial in 4...8 { try await office.record(paper(serial)) }  // offline
        let agent = AgentSession(node: "township-01", store: try await storeID(office))
        let checkpoint = try await county.checkpoint(of: agent)
        let decoy = Record(
            key: paper(100).key(township: "township-01"), kind: .ballot, township: "township-01", clock: VersionVector(["township-01": 1]),
            origin: "township-01", at: "", data: paper(100).json)
        await #expect(throws: CountyError.self, "no head: refused") {
            _ = try await county.push(PushBatch(records: [decoy], after: checkpoint, upto: checkpoint + 6), from: agent)
        }
        await #expect(throws: CountyError.self, "no records: refused") {
            _ = try await county.push(PushBatch(records: [], after: checkpoint, upto: checkpoint + 6, head: someHead), from: agent)
        }
        // A head that is not the township's: taken, and found out at the next hello.
        _ = try await county.push(PushBatch(records: [decoy], after: checkpoint, upto: checkpoint + 6, head: someHead), from: agent)

        await #expect(throws: TownshipSyncError.self) { try await syncOnce(office, with: county) }
        try await syncOnce(office, with: county)
        let held = try await ballots(at: county)
        #expect((1...8).allSatisfy { held[paper($0).key(township: "township-01")] == 1 }, "every ballot recorded offline arrived")
        // The decoy came back with the county's versions, as the township's own: it goes back once.
        try await syncOnce(office, with: county)
        #expect(try await office.outbox().unsent == 0)
    }

    /// A township store restored from an older copy finds out at hello and continues as a new store,
    /// so what it writes from then on is never hidden below the county's checkpoint of its old self.
    @Test func aTownshipStoreRestoredFromAnOlderCopyContinuesAsANewStore() async throws {
        let directory = try scratchDirectory("sunshine-township-restore")
        let county = County(store: InMemoryStore(node: "coordinator"))
        let office = township()
        for serial in 1...10 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county)
        try await office.store.backup(to: directory + "/township.backup")
        for serial in 11...30 { try await office.record(paper(serial)) }
        try await syncOnce(office, with: county)

        let restored = Township(store: try InMemoryStore(contentsOf: directory + "/township.backup", node: "township-01"))
        for serial in 31...60 { try await restored.record(paper(serial)) }  // offline, after the restore
        await #expect(throws: TownshipSyncError.self) { try await syncOnce(restored, with: county) }
        #expect(try await storeID(restored) != storeID(office), "it took a new store id")
        try await syncOnce(restored, with: county)
        let held = try await ballots(at: county)
        #expect(held.count == 60 && held.values.allSatisfy { $0 == 1 }, "nothing written after the restore was hidden")
    }

    /// Finding 9: an operator never writes a ballot, and a ballot counts only in its own township's contest.
    @Test func theCountyNeverWritesBallotsAndTheyCountOnlyAtHome() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        await #expect(throws: CountyError.self) {
            _ = try await county.put(kind: .ballot, key: paper(1).key(township: "township-01"), data: paper(1).json, deleted: false)
        }
        let home = township("township-01")
        let away = township("township-02")
        try await home.record(paper(1))
        try await away.record(paper(1))  // township-02's paper naming township-01's contest
        try await syncOnce(home, with: county, pull: false)
        try await syncOnce(away, with: county, pull: false)
        let round = try #require(try await county.tally(contest: "committee-2026", round: "vote-1").first)
        #expect(round.valid == 1 && round.invalid == 1)
        #expect(round.townshipsReporting == ["township-01"])
        #expect(round.candidates.first { $0.id == "cand-01" }?.votes == 1)
    }

    /// Finding 13: a second paper with a used serial is refused at the township, not written over the
    /// first; a correction is an explicit act that history keeps, and a void stops the paper counting.
    @Test func aBallotSerialIsWrittenOnceAndCorrectedOnlyExplicitly() async throws {
        let office = township()
        let first = try await office.record(paper(7, choices: ["cand-01"]))
        await #expect(throws: TownshipError.self) { _ = try await office.record(paper(7, choices: ["cand-02"])) }
        #expect(try await office.store.read { try $0.current(of: first.key) }?.siblings == [first], "the first paper is untouched")

        let corrected = try await office.correct(first.key, to: paper(7, choices: ["cand-02"]), reason: "keyed the wrong candidate")
        #expect(corrected.clock.compare(first.clock) == .after)
        #expect(try RecordRules.ballot(corrected.data).correction == "keyed the wrong candidate")
        let voided = try await office.correct(first.key, to: nil, reason: "torn paper")
        #expect(voided.deleted)
        #expect(try await office.store.read { try $0.history(of: first.key) }.count == 3, "history keeps every version")
        await #expect(throws: TownshipError.noSuchPaper(key: paper(8).key(township: "township-01"))) {
            _ = try await office.correct(paper(8).key(township: "township-01"), to: nil, reason: "x")
        }

        let county = County(store: InMemoryStore(node: "coordinator"))
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        try await syncOnce(office, with: county, pull: false)
        #expect(try await county.tally(contest: "committee-2026", round: "vote-1").first?.valid == 0, "a voided paper is not counted")
    }
}
