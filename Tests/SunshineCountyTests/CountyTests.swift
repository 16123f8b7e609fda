import Foundation
import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineTestSupport
import Synchronization
import Testing

/// The coordinator's rules, called directly: no sockets, an in-memory store per test.
@Suite struct CountyTests {
    let county = County(store: InMemoryStore(node: "coordinator"))

    /// A push from the township's one store, continuing from the county's checkpoint for it.
    private func push(_ records: [JSONValue], upto: Int64, from agent: String) async throws -> PushOutcome {
        let session = AgentSession(node: agent, store: "")
        let after = try await county.checkpoint(of: session)
        return try await county.push(PushBatch(entries: records.map(PushBatch.Entry.init(json:)), after: after, upto: upto, head: someHead), from: session)
    }

    private func push(_ records: [Record], upto: Int64, from agent: String) async throws -> PushOutcome {
        try await push(records.map(\.json), upto: upto, from: agent)
    }

    private func pull(since: Int64, limit: Int, for township: String) async throws -> PullPage {
        try await county.pull(since: since, limit: limit, maxBytes: 1 << 20, for: Routing.Reader(township: township, store: ""))
    }

    private func put(_ kind: RecordKind, _ key: String, _ data: JSONValue) async throws -> Written {
        try await county.put(kind: kind, key: key, data: data, deleted: false)
    }

    private func ballot(_ township: String, _ serial: Int, choices: [String] = ["cand-01"], clock: [String: UInt64]? = nil, origin: String? = nil, round: String = "vote-1") -> Record {
        let data = paper(serial, round: round, choices: choices)
        return Record(key: data.key(township: township), kind: .ballot, township: township, clock: VersionVector(clock ?? [township: 1]),
                      origin: origin ?? township, at: "2026-11-24T09:30:00Z", data: data.json)
    }

    private func publishContest() async throws {
        _ = try await put(.contest, "contest/county/committee-2026", sampleContest.json)
    }

    @Test func forbiddenRecordsAreRejectedWithTheirReasonAndTheRestIsAccepted() async throws {
        try await publishContest()
        let finding = Record(key: "finding/township-01/f1", kind: .finding, township: "township-01", clock: VersionVector(["township-01": 1]), origin: "township-01", at: "",
                             data: ["team": "t", "category": "c", "severity": "low", "status": "open", "title": "Queue outside"])
        let otherTownship = ballot("township-02", 1)
        let foreignOrigin = ballot("township-01", 2, clock: ["township-01": 1, "township-02": 1], origin: "township-02")
        let contest = Record(key: "contest/county/mine", kind: .contest, township: "county", clock: VersionVector(["township-01": 1]), origin: "township-01", at: "", data: sampleContest.json)
        // The county holds coordinator:1 for the contest key; raising it to 5 is a forged clock.
        let forged = Record(key: "finding/township-01/f2", kind: .finding, township: "township-01", clock: VersionVector(["township-01": 1, "coordinator": 5]), origin: "township-01", at: "",
                            data: finding.data)
        var badJSON = ballot("township-01", 3).json.objectValue!
        badJSON["clock"] = "yesterday"
        let batch = [ballot("township-01", 10).json, otherTownship.json, foreignOrigin.json, contest.json, forged.json, .object(badJSON), finding.json, ballot("township-01", 11).json]

        let result = try await push(batch, upto: 8, from: "township-01")
        #expect(result.accepted == 3)
        #expect(result.rejected.map(\.error.reason) == ["forbidden", "forbidden", "forbidden", "forged_clock", "invalid"])
        #expect(result.rejected.map(\.key) == [otherTownship.key, foreignOrigin.key, contest.key, forged.key, ballot("township-01", 3).key])
        #expect(result.rejected.allSatisfy { !$0.error.message.isEmpty })
        let refusedKeys = [otherTownship.key, foreignOrigin.key, contest.key, forged.key, ballot("township-01", 3).key]
        let stored = try await county.store.read { reader in try refusedKeys.compactMap { try reader.current(of: $0) } }
        #expect(stored.isEmpty, "nothing rejected is stored")
        #expect(try await county.checkpoint(of: AgentSession(node: "township-01", store: "")) == 8)
    }

    @Test func aTownshipMayAdvanceOnlyItsOwnClockEntry() async throws {
        // The county edited township-01's finding; the township builds on it: fine.
        let base = Record(key: "finding/township-01/f", kind: .finding, township: "township-01", clock: VersionVector(["township-01": 1]), origin: "township-01", at: "",
                          data: ["team": "t", "category": "c", "severity": "low", "status": "open", "title": "x"])
        _ = try await push([base], upto: 1, from: "township-01")
        let countyEdit = try await put(.finding, base.key, base.data).record
        let countyActor = try #require(countyEdit.clock.counters.keys.first { Actor.node(of: $0) == "coordinator" })
        var next = base
        next.clock = countyEdit.clock.incremented(for: "township-01")
        var beyond = next
        beyond.clock = VersionVector(next.clock.counters.merging([countyActor: 2, "township-01": 3]) { $1 })
        let result = try await push([next, beyond], upto: 3, from: "township-01")
        #expect(result.accepted == 1)
        #expect(result.rejected.map(\.error.reason) == ["forged_clock"])
    }

    @Test func aResentVersionIsADuplicateNotASecondBallot() async throws {
        let batch = (1...5).map { ballot("township-01", $0) }
        let first = try await push(batch, upto: 5, from: "township-01")
        let again = try await push(batch, upto: 5, from: "township-01")
        #expect(first.accepted == 5 && first.duplicates == 0)
        #expect(again.accepted == 0 && again.duplicates == 5)
        #expect(try await county.status().totals.ballots == 5)
    }

    @Test func theCheckpointAdvancesOnlyOverContiguousBatches() async throws {
        let store = AgentSession(node: "township-02", store: "")
        _ = try await county.push(PushBatch(records: [ballot("township-02", 40)], after: 0, upto: 40, head: someHead), from: store)
        await #expect(throws: CountyError.outOfOrder(checkpoint: 40)) {
            _ = try await county.push(PushBatch(records: [ballot("township-02", 1)], after: 12, upto: 13, head: someHead), from: store)
        }
        #expect(try await county.checkpoint(of: store) == 40)
        #expect(try await county.status().totals.ballots == 1, "nothing of an out-of-order batch is applied")
    }

    /// Review (issue 7): a push of no records — or with no log head — moved the checkpoint over
    /// changes the county never received, and the agent, trusting the county's number, never sent
    /// them. A push moves the checkpoint only over records and with the head the agent checks.
    @Test func aPushMovesTheCheckpointOnlyOverRecordsAndWithItsHead() async throws {
        let store = AgentSession(node: "township-01", store: String(repeating: "1", count: 32))
        await #expect(throws: CountyError.self) {
            _ = try await county.push(PushBatch(records: [], after: 0, upto: 9, head: someHead), from: store)
        }
        await #expect(throws: CountyError.self) {
            _ = try await county.push(PushBatch(records: [ballot("township-01", 1)], after: 0, upto: 9), from: store)
        }
        await #expect(throws: CountyError.self) {
            _ = try await county.push(PushBatch(records: [ballot("township-01", 1)], after: 0, upto: 9, head: "not a head"), from: store)
        }
        #expect(try await county.checkpoint(of: store) == 0, "the checkpoint did not move")
        #expect(try await county.status().totals.ballots == 0)
        // Returning the county's versions moves nothing and needs no head.
        _ = try await county.push(PushBatch(records: [], after: 0, upto: 0), from: store)
    }

    @Test func aDuplicatedSerialIsQuarantinedFlaggedAndNotCounted() async throws {
        _ = try await put(.contest, "contest/county/committee-2026", contest(for: "township-03").json)
        let original = ballot("township-03", 77, choices: ["cand-01"])
        let twin = ballot("township-03", 77, choices: ["cand-02"])
        let result = try await push([ballot("township-03", 1), original, twin], upto: 3, from: "township-03")
        #expect(result.accepted == 2)
        #expect(result.conflicts == 1)
        let conflicts = try await county.conflicts().conflicts
        #expect(conflicts.map(\.key) == [original.key])
        #expect(conflicts.first?.reason == .integrity)
        #expect(conflicts.first?.siblings.count == 2)
        let round = try #require(try await county.tally(contest: "committee-2026", round: "vote-1").first)
        #expect(round.valid == 1)
        #expect(round.quarantined == 1)
        #expect(round.candidates.first { $0.id == "cand-02" }?.votes == 0)
        #expect(try await county.status().totals.quarantined == 1)
    }

    @Test func theTallyEqualsAnIndependentCountAndAClosedRoundQuarantinesLaterBallots() async throws {
        // One contest per township's election: each counts only its own township's papers.
        for township in ["township-01", "township-02", "township-03"] {
            _ = try await put(.contest, Contest.key("committee-\(township)"), contest(for: township).json)
        }
        var random = SystemRandomNumberGenerator()
        var expected: [String: Int] = [:]
        var valid = 0
        var invalid = 0
        var sent: [Record] = []
        for township in ["township-01", "township-02", "township-03"] {
            var batch: [Record] = []
            for serial in 1...60 {
                let pick = Int.random(in: 0..<10, using: &random)
                let choices: [String]
                switch pick {
                case 0: choices = ["cand-01", "cand-02", "cand-03"]  // over the 2 seats: invalid
                case 1: choices = ["cand-09"]  // not a candidate: invalid
                default: choices = Array(["cand-01", "cand-02", "cand-03"].shuffled(using: &random).prefix(pick % 3))
                }
                let clerkValid = serial % 17 != 0
                let sheet = paper(serial, contest: "committee-\(township)", choices: choices, valid: clerkValid)
                let record = Record(key: sheet.key(township: township), kind: .ballot, township: township,
                                    clock: VersionVector([township: 1]), origin: township, at: "", data: sheet.json)
                batch.append(record)
                if clerkValid && pick > 1 {
                    valid += 1
                    for choice in choices { expected[choice, default: 0] += 1 }
                } else {
                    invalid += 1
                }
            }
            _ = try await push(batch, upto: 60, from: township)
            if township == "township-01" { sent = batch }
        }
        let rounds = try await county.tally(round: "vote-1")
        #expect(rounds.map(\.contest) == ["committee-township-01", "committee-township-02", "committee-township-03"])
        #expect(rounds.map(\.valid).reduce(0, +) == valid)
        #expect(rounds.map(\.invalid).reduce(0, +) == invalid)
        var votes: [String: Int] = [:]
        for round in rounds { for candidate in round.candidates { votes[candidate.id, default: 0] += candidate.votes } }
        #expect(votes == ["cand-01": expected["cand-01"] ?? 0, "cand-02": expected["cand-02"] ?? 0, "cand-03": expected["cand-03"] ?? 0])
        #expect(rounds.map(\.townshipsReporting) == [["township-01"], ["township-02"], ["township-03"]])
        let round = rounds[0]

        #expect(try await county.closeRound(contest: "committee-township-01", round: "vote-1", evenIfBehind: true).newlyClosed)
        let late = Record(
            key: paper(500, contest: "committee-township-01").key(township: "township-01"), kind: .ballot, township: "township-01",
            clock: VersionVector(["township-01": 1]), origin: "township-01", at: "", data: paper(500, contest: "committee-township-01").json
        )
        let result = try await push([late, sent[0]], upto: 61, from: "township-01")
        #expect(result.rejected.map(\.error.reason) == ["round_closed"])
        #expect(result.duplicates == 1, "a resend of a ballot accepted before the close is still a duplicate")
        let after = try #require(try await county.tally(contest: "committee-township-01", round: "vote-1").first)
        #expect(after.closed)
        #expect(after.valid == round.valid)
        #expect(after.quarantined == 1)
        #expect(try await county.store.read { try $0.current(of: late.key) }?.quarantined == true, "the late ballot is kept")
        #expect(try await county.closeRound(contest: "committee-township-01", round: "vote-1", evenIfBehind: true).newlyClosed == false)

        // Review: a correction or a void of a paper counted before the close changed the closed
        // result. Both are held aside for the operators; the result stays what it was.
        let corrected = Record(
            key: sent[1].key, kind: .ballot, township: "township-01", clock: Replication.nextClock(for: "township-01", over: sent[1].clock),
            origin: "township-01", at: "",
            data: Ballot(contest: "committee-township-01", round: "vote-1", station: "s01", serial: 2, choices: ["cand-03"], correction: "after the close").json
        )
        let voided = Record(
            key: sent[2].key, kind: .ballot, township: "township-01", clock: Replication.nextClock(for: "township-01", over: sent[2].clock),
            origin: "township-01", at: "", deleted: true, data: try RecordRules.ballot(sent[2].data).json
        )
        let late2 = try await push([corrected, voided], upto: 62, from: "township-01")
        #expect(late2.rejected.map(\.key) == [corrected.key, voided.key])
        #expect(late2.rejected.allSatisfy { $0.error.reason == "round_closed" }, "\(late2.rejected)")
        let final = try #require(try await county.tally(contest: "committee-township-01", round: "vote-1").first)
        #expect(final.valid == after.valid && final.invalid == after.invalid && final.candidates == after.candidates, "the closed result did not move")
        #expect(try await county.rejected(township: "township-01", limit: nil).refusals.map(\.key).contains(voided.key), "the void is kept, held aside")
    }

    /// Review: re-publishing a contest id for another township made every ballot of the first
    /// township invalid, silently.
    @Test func aContestNeverMovesToAnotherTownship() async throws {
        try await publishContest()
        var moved = sampleContest
        moved.township = "township-08"
        await #expect(throws: CountyError.self) {
            _ = try await put(.contest, "contest/county/committee-2026", moved.json)
        }
        var retitled = sampleContest
        retitled.title = "Committee (corrected title)"
        _ = try await put(.contest, "contest/county/committee-2026", retitled.json)
        let held = try #require(try await county.store.read { try $0.current(of: "contest/county/committee-2026") })
        #expect(try RecordRules.contest(held.value.data).township == sampleContest.township)
    }

    @Test func closingAnUnknownRoundSaysWhatExists() async throws {
        try await publishContest()
        await #expect(throws: CountyError.invalid("Contest committee-2026 has no round vote-9; its rounds are vote-1, vote-2.")) {
            _ = try await county.closeRound(contest: "committee-2026", round: "vote-9", evenIfBehind: true)
        }
        await #expect(throws: CountyError.invalid("There is no contest nope; publish it with `sunshine contest publish` first.")) {
            _ = try await county.closeRound(contest: "nope", round: "vote-1", evenIfBehind: true)
        }
    }

    @Test func putRefusesInvalidRecordsWithTheReason() async throws {
        do {
            _ = try await put(.contest, "contest/county/x", ["title": "No seats"])
            Issue.record("an invalid contest was published")
        } catch let error as CountyError {
            guard case .invalid(let message) = error else { Issue.record("not invalid: \(error)"); return }
            #expect(message.contains("seats"))
        }
        #expect(try await county.status().totals.contests == 0)
    }

    @Test func pullPagesThroughWhatIsMeantForATownship() async throws {
        let own = (1...5).map { ballot("township-01", $0) }
        let others = (1...5).map { ballot("township-02", $0) }
        _ = try await push(own, upto: 5, from: "township-01")
        _ = try await push(others, upto: 5, from: "township-02")
        try await publishContest()
        // township-01 is sent neither its own ballots nor township-02's, only the contest.
        let page = try await pull(since: 0, limit: 500, for: "township-01")
        #expect(page.records.map(\.kind) == [.contest])
        #expect(page.more == false)
        #expect(page.upto == 11)
        // The county resolves nothing but pages are bounded: township-02 sees the contest in pages of 1.
        let first = try await pull(since: 0, limit: 1, for: "township-02")
        #expect(first.records.count == 1 && first.more)
        #expect(try await pull(since: first.upto, limit: 1, for: "township-02").records.isEmpty)
    }

    /// Review (issue 7): a refused version was held aside at full size, so a few pushes of
    /// frame-sized nonsense could make the county keep gigabytes. One longer than any valid record
    /// is kept as its length, digest and opening; one a valid record could be is kept whole.
    @Test func aRefusedVersionLargerThanAnyRecordIsKeptAsItsDigest() async throws {
        var huge = ballot("township-01", 1).json.objectValue!
        huge["data"] = ["note": .string(String(repeating: "x", count: 900_000))]
        let forged = ballot("township-02", 2)  // refused (forbidden), of valid size
        let result = try await push([.object(huge), forged.json], upto: 2, from: "township-01")
        #expect(result.rejected.map(\.error.reason) == ["invalid", "forbidden"])
        let held = try await county.rejected(township: nil, limit: nil).refusals
        let big = try #require(held.first { $0.key == ballot("township-01", 1).key })
        #expect(big.version.utf8.count < 2_000, "a 900 kB version is not kept whole")
        let summary = try JSONParser.parse(big.version)
        #expect(summary["truncated"] == true && summary["bytes"]?.intValue ?? 0 > 900_000)
        #expect(summary["sha256"]?.stringValue?.count == 64)
        #expect(held.first { $0.key == forged.key }?.version == forged.canonical, "a refused version of valid size is kept whole")
    }

    /// Review (issue 7): `rejected` and `conflicts` answered everything at once, larger than the
    /// operator's frame. Each answer now holds what fits, the first entry always, and says `more`.
    @Test func heldAsideAndConflictListsFitTheOperatorsFrame() async throws {
        try await publishContest()
        let refused = (1...40).map { ballot("township-02", $0) }  // forbidden for township-01, each held aside
        _ = try await push(refused, upto: 40, from: "township-01")
        let all = try await county.rejected(township: nil, limit: nil)
        #expect(all.refusals.count == 40 && !all.more)
        let perEntry = County.entryOverhead + refused[0].canonical.utf8.count + 200
        let page = try await county.rejected(township: nil, limit: nil, maxBytes: 10 * perEntry)
        #expect(page.more && (5...10).contains(page.refusals.count), "\(page.refusals.count) entries in ten entries' room")
        #expect(page.refusals.map(\.key) == Array(all.refusals.prefix(page.refusals.count)).map(\.key), "newest first, none skipped")
        let tiny = try await county.rejected(township: nil, limit: nil, maxBytes: 1)
        #expect(tiny.refusals.count == 1 && tiny.more, "the first always fits: an answer always makes progress")
        let limited = try await county.rejected(township: nil, limit: 39)
        #expect(limited.refusals.count == 39 && limited.more)
        // Paging with `before` reaches every entry, the oldest included (the attack's repro-21).
        var paged: [Refusal] = []
        var before: Int64?
        repeat {
            let next = try await county.rejected(township: nil, before: before, limit: nil, maxBytes: 10 * perEntry)
            paged += next.refusals
            before = next.more ? next.refusals.last?.id : nil
        } while before != nil
        #expect(paged.map(\.id) == all.refusals.map(\.id) && Set(paged.map(\.id)).count == 40)

        for serial in 1...6 {
            _ = try await push([ballot("township-01", serial, choices: ["cand-01"])], upto: Int64(2 * serial - 1) + 40, from: "township-01")
            _ = try await push([ballot("township-01", serial, choices: ["cand-02"])], upto: Int64(2 * serial) + 40, from: "township-01")
        }
        let open = try await county.conflicts()
        #expect(open.conflicts.count == 6 && !open.more)
        let first = try await county.conflicts(maxBytes: 1)
        #expect(first.conflicts.map(\.key) == [open.conflicts[0].key] && first.more)
    }

    /// Review (issue 7): `hello.store` was neither checked nor bounded, so one certificate could make
    /// the county keep a checkpoint row per invented id. A node keeps at most ``AgentStore/maxPerNode``
    /// stores — those heard from last — and a forgotten store re-sends from 0: duplicates, nothing lost.
    @Test func aNodeKeepsCheckpointsForItsNewestStoresOnly() async throws {
        var clockValue = Date(timeIntervalSince1970: 1_800_000_000)
        let times = Mutex(clockValue)
        let county = County(store: InMemoryStore(node: "coordinator"), clock: { times.withLock { $0 } })
        func store(_ n: Int) -> AgentSession { AgentSession(node: "township-01", store: String(format: "%032x", n)) }
        for n in 0..<(AgentStore.maxPerNode + 8) {
            clockValue += 1
            times.withLock { $0 = clockValue }
            _ = try await county.hello(store(n), pulled: nil)
        }
        let kept = try await county.store.read { try $0.agentStores() }.filter { $0.node == "township-01" }.map(\.store)
        #expect(kept.count == AgentStore.maxPerNode)
        #expect(Set(kept) == Set((8..<(AgentStore.maxPerNode + 8)).map { store($0).store }), "the newest are kept")
        #expect(try await county.status().townships.first { $0.node == "township-01" }?.store == store(AgentStore.maxPerNode + 7).store)
    }
}


/// What operators watch beyond counts: the coordinator's ring of recent events.
@Suite struct CountyEventTests {
    @Test func theRingKeepsTheNewestEventsNewestFirst() {
        let events = CountyEvents()
        for number in 1...(CountyEvents.capacity + 5) {
            events.record(.published, at: Date(timeIntervalSince1970: Double(number)), "event \(number)")
        }
        let latest = events.latest(3)
        #expect(latest.map(\.message) == ["event 205", "event 204", "event 203"])
        #expect(latest.first?.id == Int64(CountyEvents.capacity + 5))
        #expect(events.latest(1_000).count == CountyEvents.capacity)
        #expect(events.lastChange == Date(timeIntervalSince1970: 205))
    }

    @Test func townshipsComingAndGoingConflictsRoundsAndRefusalsAreEvents() async throws {
        let county = County(store: InMemoryStore(node: "coordinator"))
        let agent = try NodeIdentity(node: "township-01", role: .agent)
        county.connected(agent)
        county.connected(agent)
        county.disconnected(agent)
        _ = try await county.put(kind: .contest, key: Contest.key("committee-2026"), data: sampleContest.json, deleted: false)
        #expect(try await county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true).newlyClosed)
        let late = Record(
            key: paper(1).key(township: "township-01"), kind: .ballot, township: "township-01", clock: VersionVector(["township-01": 1]),
            origin: "township-01", at: "2026-11-24T09:30:00Z", data: paper(1).json
        )
        _ = try await county.push(.init(records: [late], after: 0, upto: 1, head: someHead), from: .init(node: "township-01", store: "s"))
        county.disconnected(agent)
        let status = try await county.status()
        #expect(status.events.map(\.kind) == [.offline, .quarantined, .roundClosed, .published, .connected], "one connection of two closing is no event")
        #expect(status.events[1].key == late.key)
        #expect(status.totals.lastChange != nil)
    }

    @Test func statusCountsOpenFindingsBySeverity() async throws {
        let store = InMemoryStore(node: "township-02")
        let findings: [(String, Finding.Severity, Finding.Status)] = [("a", .high, .investigating), ("b", .high, .resolved), ("c", .low, .open)]
        for (id, severity, status) in findings {
            let finding = Finding(team: "t", category: "c", severity: severity, status: status, title: id)
            try await store.write { try $0.write(kind: .finding, key: "finding/township-02/\(id)", township: "township-02", data: finding.json) }
        }
        let county = County(store: InMemoryStore(node: "coordinator"))
        let records = try await store.read { try $0.outbox(of: "township-02", after: 0, limit: 10).map(\.record) }
        _ = try await county.push(.init(records: records, after: 0, upto: 3, head: someHead), from: .init(node: "township-02", store: "s"))
        let row = try #require(try await county.status().townships.first { $0.node == "township-02" })
        #expect(row.openFindings == [.high: 1, .low: 1], "resolved findings are not open")
    }
}
