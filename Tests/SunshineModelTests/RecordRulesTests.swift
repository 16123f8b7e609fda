import SunshineModel
import Testing

func ballotRecord(
    _ township: String = "township-03", serial: Int64 = 123, choices: [String] = ["cand-07"], valid: Bool = true,
    clock: [String: UInt64]? = nil, origin: String? = nil
) -> Record {
    let ballot = Ballot(contest: "secretary-2026", round: "vote-1", station: "s01", serial: serial, choices: choices, valid: valid)
    return Record(
        key: ballot.key(township: township), kind: .ballot, township: township,
        clock: VersionVector(clock ?? [township: 1]), origin: origin ?? township, at: "2026-11-24T09:30:00Z", data: ballot.json
    )
}

func findingRecord(
    _key: String = "finding/township-03/f1", township: String = "township-03", clock: [String: UInt64], origin: String,
    status: Finding.Status = .open, severity: Finding.Severity = .medium, title: String = "Ballot box seal", notes: [String] = [],
    deleted: Bool = false
) -> Record {
    let finding = Finding(team: "team-03", category: "procedure", severity: severity, status: status, title: title, details: "", notes: notes)
    return Record(key: _key, kind: .finding, township: township, clock: VersionVector(clock), origin: origin, at: "2026-11-24T10:00:00Z", deleted: deleted, data: finding.json)
}

@Suite struct RecordRulesTests {
    @Test func theDesignsExampleBallotIsValid() throws {
        let record = try Record(json: [
            "key": "ballot/township-03/secretary-2026/vote-1/s01/000123", "kind": "ballot", "township": "township-03",
            "clock": ["township-03": 1], "origin": "township-03", "at": "2026-11-24T09:30:00Z", "deleted": false,
            "data": ["contest": "secretary-2026", "round": "vote-1", "station": "s01", "serial": 123, "choices": ["cand-07"], "valid": true],
        ])
        try RecordRules.validate(record)
        #expect(record == ballotRecord())
        #expect(try Record(json: record.json) == record)
    }

    @Test func validFindingsAndContestsPass() throws {
        try RecordRules.validate(findingRecord(clock: ["township-03": 1], origin: "township-03"))
        let contest = Contest(title: "Party secretary", township: "township-03", seats: 1, rounds: ["rec-1", "rec-2", "vote-1", "vote-2"],
                              candidates: [.init(id: "cand-07", name: "Li Wei"), .init(id: "cand-09", name: "Wang Fang")])
        try RecordRules.validate(Record(key: "contest/county/secretary-2026", kind: .contest, township: "county", clock: VersionVector(["coordinator": 1]), origin: "coordinator", at: "", data: contest.json))
    }

    @Test(arguments: [
        (#"not an object"#, "a record must be a JSON object"),
    ])
    func nonObjectsAreInvalid(_ text: String, _ message: String) {
        #expect(throws: RecordError.invalid(message)) { try Record(json: .string(text)) }
    }

    @Test func envelopeMistakesAreNamed() {
        var json = ballotRecord().json.objectValue!
        json["kind"] = "vote"
        #expect(throws: RecordError.invalid(#"kind "vote" is not one of ballot, finding, contest"#)) { try Record(json: .object(json)) }
        json = ballotRecord().json.objectValue!
        json["clock"] = ["township-03": 0]
        #expect(throws: RecordError.invalid(#"clock entry "township-03" must be an integer of at least 1"#)) { try Record(json: .object(json)) }
        json = ballotRecord().json.objectValue!
        json["data"] = "x"
        #expect(throws: RecordError.invalid(#""data" must be an object"#)) { try Record(json: .object(json)) }
    }

    /// The attack's repro-10: a ballot carrying members the schema forbids (`choices_override`, 15 kB
    /// of `junk`) was accepted, stored and counted; an unknown record member was dropped unannounced.
    @Test func membersNoRuleReadsAreRefused() throws {
        var record = ballotRecord()
        var data = record.data.objectValue!
        data["choices_override"] = ["cand-02"]
        record.data = .object(data)
        #expect(throws: RecordError.self) { try RecordRules.validate(record) }
        var finding = findingRecord(clock: ["township-03": 1], origin: "township-03")
        var findingData = finding.data.objectValue!
        findingData["junk"] = "x"
        finding.data = .object(findingData)
        #expect(throws: RecordError.self) { try RecordRules.validate(finding) }
        var json = ballotRecord().json.objectValue!
        json["signature"] = "later"
        #expect(throws: RecordError.invalid(
            "a record has no member \"signature\"; its members are at, clock, data, deleted, key, kind, origin, township, written")) {
            _ = try Record(json: .object(json))
        }
    }

    /// `written` names a store and one of its changes, on ballots only, and reads back as written.
    @Test func aBallotsWriterIsAStoreAndAChange() throws {
        var record = ballotRecord()
        record.written = WrittenAt(store: String(repeating: "ab", count: 16), seq: 7)
        try RecordRules.validate(record)
        #expect(try Record(json: JSONParser.parse(record.canonical)) == record, "it travels in the canonical form")
        for (store, seq) in [("AB" + String(repeating: "0", count: 30), Int64(7)), (String(repeating: "0", count: 31), 7), (String(repeating: "0", count: 32), 0)] {
            var bad = record
            bad.written = WrittenAt(store: store, seq: seq)
            #expect(throws: RecordError.self) { try RecordRules.validate(bad) }
        }
        var finding = findingRecord(clock: ["township-03": 1], origin: "township-03")
        finding.written = record.written
        #expect(throws: RecordError.invalid(#"only a ballot carries "written"; leave it out of a finding"#)) { try RecordRules.validate(finding) }
        var json = record.json.objectValue!
        json["written"] = ["store": .string(String(repeating: "0", count: 32)), "seq": 1, "at": "x"]
        #expect(throws: RecordError.self) { try Record(json: .object(json)) }
    }

    @Test func kindRulesAreEnforced() {
        func expectInvalid(_ record: Record, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try RecordRules.validate(record)
                Issue.record("accepted: \(record.key)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.reason == "invalid", sourceLocation: sourceLocation)
                #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
            }
        }
        var record = ballotRecord()
        record.key = "ballot/township-04/secretary-2026/vote-1/s01/000123"
        expectInvalid(record, "differs from township")
        record = ballotRecord()
        record.key = "ballot/township-03/secretary-2026/vote-1/s01/000124"
        expectInvalid(record, "key must be ballot/township-03/secretary-2026/vote-1/s01/000123")
        record = ballotRecord()
        record.key = "finding/township-03/secretary-2026/vote-1/s01/000123"
        expectInvalid(record, "the record is a ballot")
        record = ballotRecord()
        record.data = ["contest": "secretary-2026", "round": "vote-1", "station": "s01", "serial": "123", "choices": [], "valid": true]
        expectInvalid(record, #"ballot "serial" must be an integer"#)
        record = ballotRecord(clock: ["township-04": 1])
        expectInvalid(record, "no entry for its origin")
        record = ballotRecord()
        record.key = "ballot/township-03/a b/vote-1/s01/000123"
        expectInvalid(record, "segments of letters")
        var finding = findingRecord(clock: ["township-03": 1], origin: "township-03")
        finding.data = ["team": "t", "category": "c", "severity": "apocalyptic", "status": "open", "title": "x"]
        expectInvalid(finding, "severity \"apocalyptic\"")
        finding.data = ["team": "t", "category": "c", "severity": "low", "status": "open", "title": .string(String(repeating: "x", count: 5_000))]
        expectInvalid(finding, "at most 4000 bytes")
        // Review: a counter of Int64.max could not be advanced, so every later edit collided.
        finding.data = ["team": "t", "category": "c", "severity": "low", "status": "open", "title": "x"]
        finding.clock = VersionVector([finding.origin: RecordRules.maxClockCounter + 1])
        expectInvalid(finding, "above the largest counter")
        let contest = Record(key: "contest/township-03/x", kind: .contest, township: "township-03", clock: VersionVector(["coordinator": 1]), origin: "coordinator", at: "", data: [:])
        expectInvalid(contest, "contest/county/ID")
    }

    @Test func aNoteOverTheLimitIsSaidToBeTooLongNotToBeNoString() throws {
        let long = findingRecord(clock: ["township-03": 1], origin: "township-03", notes: ["ok", String(repeating: "x", count: 4_001)])
        #expect(throws: RecordError.invalid(#"finding "notes" entry 2 is 4001 bytes long; each is at most 4000 bytes"#)) {
            try RecordRules.validate(long)
        }
        var number = findingRecord(clock: ["township-03": 1], origin: "township-03")
        number.data = ["team": "t", "category": "c", "severity": "low", "status": "open", "title": "x", "notes": [1]]
        #expect(throws: RecordError.invalid(#"finding "notes" must contain only strings"#)) { try RecordRules.validate(number) }
        try RecordRules.validate(findingRecord(clock: ["township-03": 1], origin: "township-03", notes: [String(repeating: "x", count: 4_000)]))
    }

    @Test func aContestWithARoundTwiceIsRefused() {
        let contest = Contest(
            title: "Party secretary", township: "township-03", seats: 1, rounds: ["vote-1", "vote-2", "vote-1"],
            candidates: [.init(id: "cand-07", name: "Li Wei")])
        let record = Record(
            key: "contest/county/secretary-2026", kind: .contest, township: "county", clock: VersionVector(["coordinator": 1]),
            origin: "coordinator", at: "", data: contest.json)
        #expect(throws: RecordError.invalid(#"round "vote-1" appears twice in rounds; each round id must be unique"#)) {
            try RecordRules.validate(record)
        }
    }

    @Test func ballotsCountOnlyWhenValidWithinSeatsAndForCandidates() {
        let contest = Contest(title: "t", township: "township-03", seats: 2, rounds: ["vote-1"], candidates: [.init(id: "a", name: "A"), .init(id: "b", name: "B"), .init(id: "c", name: "C")])
        let ballot = { (choices: [String], valid: Bool) in Ballot(contest: "x", round: "vote-1", station: "s", serial: 1, choices: choices, valid: valid) }
        #expect(contest.counts(ballot(["a"], true), from: "township-03"))
        #expect(contest.counts(ballot(["a", "b"], true), from: "township-03"))
        #expect(contest.counts(ballot([], true), from: "township-03"))
        #expect(!contest.counts(ballot(["a", "b", "c"], true), from: "township-03"), "more choices than seats")
        #expect(!contest.counts(ballot(["a", "a"], true), from: "township-03"), "a candidate twice")
        #expect(!contest.counts(ballot(["zz"], true), from: "township-03"), "not a candidate")
        #expect(!contest.counts(ballot(["a"], false), from: "township-03"), "judged invalid by the clerk")
        #expect(!contest.counts(ballot(["a"], true), from: "township-04"), "a paper of another township's election")
        // Review: a round misspelt at an office while offline ("vote1") was counted as valid in a
        // round of its own, which no operator could close.
        #expect(!contest.counts(Ballot(contest: "x", round: "vote1", station: "s", serial: 1, choices: ["a"]), from: "township-03"), "a round the contest does not have")
    }
}
