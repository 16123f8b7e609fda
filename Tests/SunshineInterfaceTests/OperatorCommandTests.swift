import Foundation
import SunshineModel
import SunshineTestSupport
import SunshineTownship
import SunshineWire
import Testing

/// The operators' commands, run as the built `sunshine` binary against a coordinator the test
/// started: readable tables by default, `--json` in the published shapes, one sentence and a
/// non-zero exit for each mistake a person makes.
@Suite(.serialized, .timeLimit(.minutes(5))) struct OperatorCommandTests {
    /// township-01 holds an election with 3 candidates for 2 seats; township-01 and township-02 record ballots.
    private func countyWithBallots() async throws -> TestCounty {
        let county = try TestCounty()
        try await county.startCoordinator()
        try await county.publish(sampleContest, id: "committee-2026")
        for township in ["township-01", "township-02"] { try county.startAgent(township) }
        let home = Township(store: try county.store("township-01"))
        try await home.record(paper(1, choices: ["cand-01", "cand-02"]))
        try await home.record(paper(2, choices: ["cand-01"]))
        try await home.record(paper(3, choices: ["cand-03"], valid: false))
        // A paper of another township for township-01's contest is never counted for a candidate.
        try await Township(store: try county.store("township-02")).record(paper(1, choices: ["cand-02"]))
        try await county.waitUntilSent("township-01")
        try await county.waitUntilSent("township-02")
        return county
    }

    @Test func statusShowsEveryTownshipAsATableAndAsJSONInThePublishedShape() async throws {
        let county = try await countyWithBallots()
        let json = try await sunshine(["status", "--json"] + county.operatorFlags)
        #expect(json.status == 0, "\(json)")
        let status = try json.json(StatusResult.self)
        #expect(status.townships.map(\.node) == ["township-01", "township-02"])
        #expect(status.totals.ballots == 4 && status.totals.online == 2 && status.totals.contests == 1)
        #expect(status.events?.contains { $0.kind == "published" } == true)
        let schema = try await validate(json.stdout, against: "methods/status.result.schema.json")
        #expect(schema.status == 0, "\(schema.output)")

        let table = try await sunshine(["status"] + county.operatorFlags)
        #expect(table.status == 0, "\(table)")
        #expect(table.stdout.contains("Townships 2/2 online"))
        #expect(table.stdout.contains("TOWNSHIP"))
        let row = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("township-01") })
        #expect(row.contains("online") && row.contains(" 3 "), "township-01 holds 3 ballots: \(row)")
        #expect(!table.stdout.contains("\u{1B}["), "no colour when standard output is not a terminal")
        await county.stopAll()
    }

    @Test func theTallyCountsOnlyValidPapersOfTheContestsOwnTownshipAndAgreesWithTheCoordinator() async throws {
        let county = try await countyWithBallots()
        let closed = try await sunshine(["close-round", "committee-2026", "vote-1"] + county.operatorFlags)
        #expect(closed.status == 0 && closed.stdout.contains("Closed round vote-1 of committee-2026"), "\(closed)")
        try await Township(store: try county.store("township-01")).record(paper(4, choices: ["cand-02"]))
        try await county.waitUntilSent("township-01")

        let run = try await sunshine(
            ["tally", "--contest", "committee-2026", "--round", "vote-1", "--json"] + county.operatorFlags)
        #expect(run.status == 0, "\(run)")
        let round = try #require(try run.json(TallyResult.self).rounds.first)
        #expect(round.closed)
        #expect(
            (round.valid, round.invalid, round.quarantined) == (2, 2, 1),
            "township-02's paper is invalid here; the late one quarantined")
        #expect(round.candidates.map(\.votes) == [2, 1, 0])
        let held = try await county.coordinator!.county.tally(contest: "committee-2026", round: "vote-1")
        #expect(held.first?.valid == round.valid && held.first?.quarantined == round.quarantined)
        #expect(try await validate(run.stdout, against: "methods/tally.result.schema.json").status == 0)

        let table = try await sunshine(["tally", "--contest", "committee-2026"] + county.operatorFlags)
        #expect(table.status == 0, "\(table)")
        #expect(table.stdout.contains("round vote-1 · closed"))
        #expect(table.stdout.contains("valid 2 · invalid 2 · quarantined 1"))
        #expect(table.stdout.contains("Li Wei"))
        await county.stopAll()
    }

    @Test func aContestIsCheckedBeforeItIsPublishedAndItsCompetitiveRatioShown() async throws {
        let county = try TestCounty()
        try await county.startCoordinator()
        let file = county.pki.directory.path + "/contest.json"
        try
            #"{"id": "committee-2026-township-02", "title": "乡镇党委换届", "township": "township-02", "seats": 5, "rounds": ["vote-1"], "candidates": [{"id": "c1", "name": "李伟"}, {"id": "c2", "name": "王芳"}, {"id": "c3", "name": "张敏"}, {"id": "c4", "name": "刘洋"}, {"id": "c5", "name": "陈静"}, {"id": "c6", "name": "赵磊"}]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(
            try await validate(String(contentsOfFile: file, encoding: .utf8), against: "cli/contest-file.schema.json")
                .status == 0)
        let published = try await sunshine(["contest", "publish", file] + county.operatorFlags)
        #expect(published.status == 0, "\(published)")
        #expect(
            published.stdout.contains(
                "6 candidates for 5 seats: competitive ratio 1.20 (20% more candidates than seats)."))
        let json = try await sunshine(["contest", "publish", "--json", file] + county.operatorFlags)
        #expect(try json.json(PublishedContestShape.self).competitiveRatio == 1.2)
        #expect(try await validate(json.stdout, against: "cli/contest-publish.schema.json").status == 0)

        let county3 =
            #"{"id": "x", "title": "t", "township": "county", "seats": 1, "rounds": ["r"], "candidates": [{"id": "c", "name": "n"}]}"#
        let refused = try await sunshine(["contest", "publish", "-"] + county.operatorFlags, input: county3)
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("is not a valid contest: contest township \"county\" is not a township id"),
            "\(refused)")
        let few =
            #"{"id": "x", "title": "t", "township": "township-01", "seats": 3, "rounds": ["r"], "candidates": [{"id": "c", "name": "n"}]}"#
        let short = try await sunshine(["contest", "publish", "-"] + county.operatorFlags, input: few)
        #expect(short.status != 0 && short.stderr.contains("at least as many candidates as seats"), "\(short)")
        let twice =
            #"{"id": "x", "title": "t", "township": "township-01", "seats": 1, "rounds": ["vote-1", "vote-1"], "candidates": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]}"#
        let doubled = try await sunshine(["contest", "publish", "-"] + county.operatorFlags, input: twice)
        #expect(doubled.status != 0 && doubled.stderr.contains("round \"vote-1\" appears twice"), "\(doubled)")
        let status = try await county.coordinator!.county.status()
        #expect(status.totals.contests == 1, "nothing refused reached the coordinator")
        await county.stopAll()
    }

    @Test func aConflictIsListedAndResolvedFromTheCommandLine() async throws {
        let county = try TestCounty()
        try await county.startCoordinator()
        try county.startAgent("township-01")
        let office = Township(store: try county.store("township-01"))
        let finding = Finding(team: "team-01", category: "procedure", severity: .medium, status: .open, title: "Seal")
        try await office.open(finding, id: "seal")
        try await county.waitUntilSent("township-01")
        await county.stopAgent("township-01")
        try await office.editFinding("seal") { $0.status = .investigating }
        var edited = finding
        edited.details = "County visit."
        let put = try await sunshine(
            ["put", "finding/township-01/seal", "--kind", "finding", "--data", "-"] + county.operatorFlags,
            input: String(decoding: try JSONEncoder().encode(edited.json), as: UTF8.self))
        #expect(put.status == 0, "\(put)")
        try county.startAgent("township-01")
        try await county.waitUntilSent("township-01")

        let listed = try await sunshine(["conflicts", "--json"] + county.operatorFlags)
        let conflicts = try listed.json(ConflictsResult.self).conflicts
        #expect(conflicts.map(\.key) == ["finding/township-01/seal"], "\(listed)")
        #expect(try await validate(listed.stdout, against: "methods/conflicts.result.schema.json").status == 0)
        let table = try await sunshine(["conflicts"] + county.operatorFlags)
        #expect(table.stdout.contains("finding/township-01/seal") && table.stdout.contains("concurrent"), "\(table)")

        let agreed =
            #"{"team": "team-01", "category": "procedure", "severity": "high", "status": "investigating", "title": "Seal", "details": "Agreed.", "notes": []}"#
        let resolved = try await sunshine(
            ["resolve", "finding/township-01/seal", "--data", "-"] + county.operatorFlags, input: agreed)
        #expect(resolved.status == 0 && resolved.stdout.contains("Resolved finding/township-01/seal"), "\(resolved)")
        let none = try await sunshine(["conflicts"] + county.operatorFlags)
        #expect(none.stdout.contains("No open conflicts."))
        let again = try await sunshine(
            ["resolve", "finding/township-01/seal", "--data", "-"] + county.operatorFlags, input: agreed)
        #expect(again.status != 0)
        #expect(again.stderr.contains("finding/township-01/seal has no open conflict; use put to edit it."), "\(again)")
        #expect(again.isClean)
        await county.stopAll()
    }

    @Test func versionsHeldAsideAreListedWithWhyTheyWereRefused() async throws {
        let county = try TestCounty()
        try await county.startCoordinator()
        let forged = Record(
            key: "ballot/township-02/committee-2026/vote-1/s01/000001", kind: .ballot, township: "township-02",
            clock: VersionVector(["township-01": 1]), origin: "township-01", at: "2026-11-24T09:30:00Z",
            data: paper(1).json
        )
        _ = try await county.coordinator!.county.push(
            .init(records: [forged], after: 0, upto: 1, head: someHead),
            from: .init(node: "township-01", store: String(repeating: "a", count: 32))
        )
        let json = try await sunshine(["rejected", "--json"] + county.operatorFlags)
        #expect(json.status == 0, "\(json)")
        let held = try json.json(RejectedResult.self).rejected
        #expect(held.map(\.reason) == ["forbidden"] && held.first?.sender == "township-01")
        #expect(try await validate(json.stdout, against: "methods/rejected.result.schema.json").status == 0)
        let table = try await sunshine(["rejected", "--township", "township-01"] + county.operatorFlags)
        #expect(table.stdout.contains("forbidden") && table.stdout.contains(forged.key), "\(table)")
        let status = try await sunshine(["status", "--json"] + county.operatorFlags).json(StatusResult.self)
        #expect(status.townships.first { $0.node == "township-01" }?.rejected == 1)
        #expect(status.events?.first?.kind == "refused")
        await county.stopAll()
    }

    // MARK: Errors a person meets

    @Test func anUnreachableCoordinatorIsNamedAndTheOfflineAgentsMentioned() async throws {
        let county = try TestCounty()
        let run = try await sunshine(["status", "--pki", county.pki.directory.path, "--coordinator", "127.0.0.1:9"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("Cannot reach the coordinator at 127.0.0.1:9"), "\(run)")
        #expect(run.stderr.contains("Township agents keep recording offline"))
        #expect(run.isClean && run.stderr.split(separator: "\n").count == 1, "one sentence: \(run)")
    }

    @Test func aMissingOrFalseCertificateIsNamed() async throws {
        let county = try TestCounty()
        try await county.startCoordinator()
        let missing = try await sunshine([
            "status", "--pki", county.pki.directory.path + "/nowhere", "--coordinator", "\(county.endpoint)",
        ])
        #expect(
            missing.status != 0
                && missing.stderr.contains("--pki must be a directory (made by `sunshine certs init`), not \"\(county.pki.directory.path)/nowhere\" (no such directory)."),
            "\(missing)")
        let fake = county.pki.directory.path + "/fake.pem"
        try "not a certificate\n".write(toFile: fake, atomically: true, encoding: .utf8)
        let flags = [
            "--cert", fake, "--key", county.pki.directory.keyPath(for: "operator"), "--ca",
            county.pki.directory.caCertificatePath,
        ]
        let false_ = try await sunshine(["tally", "--coordinator", "\(county.endpoint)"] + flags)
        #expect(false_.status != 0 && false_.stderr.contains("\(fake) is not a PEM certificate"), "\(false_)")
        #expect(missing.isClean && false_.isClean)
        await county.stopAll()
    }

    @Test func aCertificateOfAnotherRoleIsRefusedBeforeAnythingIsSent() async throws {
        let county = try TestCounty()
        try await county.startCoordinator()
        let run = try await sunshine(["conflicts", "--node", "township-01"] + county.operatorFlags)
        #expect(run.status != 0)
        #expect(
            run.stderr.contains(
                "is the certificate of township-01, an agent; `sunshine conflicts` needs an operator's certificate"),
            "\(run)")
        await county.stopAll()
    }

    @Test func anUnknownContestOrRoundIsNamedWithWhatExists() async throws {
        let county = try TestCounty()
        try await county.startCoordinator()
        try await county.publish(sampleContest, id: "committee-2026")
        let contest = try await sunshine(["tally", "--contest", "nope"] + county.operatorFlags)
        #expect(contest.status != 0 && contest.stderr.contains("The coordinator holds no contest nope"), "\(contest)")
        let round = try await sunshine(
            ["tally", "--contest", "committee-2026", "--round", "vote-9"] + county.operatorFlags)
        #expect(
            round.status != 0
                && round.stderr.contains("Contest committee-2026 has no round vote-9; its rounds are vote-1, vote-2."),
            "\(round)")
        let close = try await sunshine(["close-round", "committee-2026", "vote-9"] + county.operatorFlags)
        #expect(close.status != 0 && close.stderr.contains("Contest committee-2026 has no round vote-9"), "\(close)")
        let unknown = try await sunshine(["close-round", "nope", "vote-1"] + county.operatorFlags)
        #expect(unknown.status != 0 && unknown.stderr.contains("There is no contest nope"), "\(unknown)")
        #expect([contest, round, close, unknown].allSatisfy { $0.isClean })
        await county.stopAll()
    }
}

/// `sunshine contest publish --json`, as a script reads it.
private struct PublishedContestShape: Decodable {
    var contest: String
    var competitiveRatio: Double
}
