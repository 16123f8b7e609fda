import Foundation
import SunshineModel
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import SunshineWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The clerks' commands, run as the built `sunshine` binary on a township's own store, with no
/// coordinator and no agent running — and then, for `local status`, once the agent has synced.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ClerkCommandTests {
    private let county: TestCounty
    private var clerk: [String] { county.clerk("township-01") }

    init() throws {
        county = try TestCounty()
    }

    private func papers() async throws -> [BallotListShape.Entry] {
        let run = try await sunshine(["ballot", "list", "--json"] + clerk)
        #expect(run.status == 0, "\(run)")
        return try run.json(BallotListShape.self).ballots
    }

    private let paperFlags = ["--contest", "committee-2026", "--round", "vote-1", "--station", "s01", "--serial", "7"]

    @Test func aSecondPaperWithAUsedSerialIsRefusedAndTheFirstCanBeCorrectedOrVoided() async throws {
        let first = try await sunshine(["ballot", "add"] + clerk + paperFlags + ["--choice", "cand-01"])
        #expect(
            first.status == 0 && first.stdout.contains("Recorded ballot/township-01/committee-2026/vote-1/s01/000007"),
            "\(first)")
        let second = try await sunshine(["ballot", "add"] + clerk + paperFlags + ["--choice", "cand-02"])
        #expect(second.status != 0)
        #expect(
            second.stderr.contains(
                "A paper is already recorded as ballot/township-01/committee-2026/vote-1/s01/000007 (choices: cand-01)"),
            "\(second)")
        #expect(second.isClean)

        let corrected = try await sunshine(
            ["ballot", "correct"] + clerk + paperFlags + [
                "--choice", "cand-02", "--reason", "entered cand-01 for cand-02",
            ])
        #expect(corrected.status == 0 && corrected.stdout.contains("Corrected"), "\(corrected)")
        #expect(try await papers().map(\.choices) == [["cand-02"]])
        #expect(try await papers().first?.correction == "entered cand-01 for cand-02")

        let voided = try await sunshine(["ballot", "void"] + clerk + paperFlags + ["--reason", "recorded by mistake"])
        #expect(voided.status == 0, "\(voided)")
        let list = try await sunshine(["ballot", "list"] + clerk)
        #expect(list.stdout.contains("void") && list.stdout.contains("not yet"), "\(list)")
        #expect(try await papers().first?.voided == true)
        #expect(
            try await validate(
                try await sunshine(["ballot", "list", "--json"] + clerk).stdout, against: "cli/ballot-list.schema.json"
            ).status == 0)
    }

    @Test func aSheetIsWrittenWholeOrNotAtAllAndABadRowIsNamedByItsLine() async throws {
        let sheet = county.pki.directory.path + "/papers.csv"
        try """
        contest,round,station,serial,choices,valid
        committee-2026,vote-1,s01,1,cand-01;cand-02,yes
        committee-2026,vote-1,s01,2,"cand-03",yes
        committee-2026,vote-1,s01,two,cand-01,yes
        committee-2026,vote-1,s01,3,,no
        committee-2026,vote-1,s01,1,cand-02,yes

        """.write(toFile: sheet, atomically: true, encoding: .utf8)
        let refused = try await sunshine(["ballot", "import", sheet] + clerk)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("has 2 invalid rows, so nothing from it was written"), "\(refused)")
        #expect(refused.stderr.contains("line 4: serial \"two\" is not a whole number"))
        #expect(refused.stderr.contains("line 6: the same paper as line 2"))
        #expect(try await papers().isEmpty, "nothing from the sheet was written")

        let skipped = try await sunshine(["ballot", "import", "--skip-invalid", "--json", sheet] + clerk)
        #expect(skipped.status == 0, "\(skipped)")
        let result = try skipped.json(ImportShape.self)
        #expect(result.recorded.count == 3 && result.skipped.map(\.line) == [4, 6])
        #expect(try await validate(skipped.stdout, against: "cli/ballot-import.schema.json").status == 0)
        #expect(try await papers().map(\.serial) == [1, 2, 3])
        #expect(try await papers().map(\.valid) == [true, true, false])

        let again = try await sunshine(["ballot", "import", sheet] + clerk)
        #expect(
            again.stderr.contains(
                "line 2: a paper is already recorded as ballot/township-01/committee-2026/vote-1/s01/000001"),
            "\(again)")

        let header = county.pki.directory.path + "/header.csv"
        try "contest,round,serial,choice\nc,r,1,a\n".write(toFile: header, atomically: true, encoding: .utf8)
        let bad = try await sunshine(["ballot", "import", header] + clerk)
        #expect(bad.status != 0)
        #expect(
            bad.stderr.contains("line 1: the header lacks station, choices and has unknown columns choice"), "\(bad)")
        #expect(bad.isClean && refused.isClean)
    }

    /// A file that is no sheet, an input that cannot be read and a field that would drive the
    /// clerk's terminal each get one sentence and a failing exit, and nothing is written.
    @Test func aSheetThatIsNotTextAnUnreadableInputAndControlBytesAreRefusedInOneSentence() async throws {
        let binary = county.pki.directory.path + "/binary.csv"
        try Data((0..<4_096).map { UInt8($0 % 256) }).write(to: URL(fileURLWithPath: binary))
        let notText = try await sunshine(["ballot", "import", binary] + clerk)
        #expect(notText.status != 0 && notText.stderr.contains("is not UTF-8 text") && notText.isClean, "\(notText)")

        // Standard input that is a directory: reading it fails (EISDIR), and must not trap.
        let fromDirectory = try runProcess("/bin/sh", ["-c", #"exec "$0" ballot import - "$@" < /"#, SunshineExecutable.path] + clerk)
        #expect(fromDirectory.status == 1 && fromDirectory.output.contains("Standard input cannot be read"), "\(fromDirectory)")

        let hostile = county.pki.directory.path + "/hostile.csv"
        let long = String(repeating: "x", count: 100_000)
        try "contest,round,station,serial,choices,valid\ncommittee-2026,vote-1,s01,1,cand-01,\u{1B}[2J\ncommittee-2026,vote-1,s01,\(long),cand-01,yes\n"
            .write(toFile: hostile, atomically: true, encoding: .utf8)
        let shown = try await sunshine(["ballot", "import", hostile] + clerk)
        #expect(shown.status != 0 && shown.stderr.contains("line 2: valid \"\u{FFFD}[2j\" is not yes or no"), "\(shown)")
        #expect(!shown.stderr.contains("\u{1B}") && shown.stderr.utf8.count < 2_000, "no control bytes, and not the 100,000-character field")
        #expect(try await papers().isEmpty)
    }

    @Test func aPaperIsCheckedAgainstItsContestWhenTheStoreHoldsIt() async throws {
        let store = try county.store("township-01")
        let contest = Record(
            key: Contest.key("committee-2026"), kind: .contest, township: "county",
            clock: VersionVector(["coordinator": 1]),
            origin: "coordinator", at: "2026-11-24T08:00:00Z", data: sampleContest.json
        )
        try await store.write { try $0.apply(contest) }
        let stranger = try await sunshine(["ballot", "add"] + clerk + paperFlags + ["--choice", "cand-09"])
        #expect(
            stranger.status != 0 && stranger.stderr.contains("cand-09 is not a candidate of committee-2026"),
            "\(stranger)")
        let spoilt = try await sunshine(["ballot", "add"] + clerk + paperFlags + ["--choice", "cand-09", "--invalid"])
        #expect(spoilt.status == 0, "a spoilt paper is recorded as invalid: \(spoilt)")
        let round = try await sunshine(
            ["ballot", "add"] + clerk + [
                "--contest", "committee-2026", "--round", "vote-7", "--station", "s1", "--serial", "1",
            ])
        #expect(
            round.stderr.contains("contest committee-2026 has no round vote-7; its rounds are vote-1, vote-2"),
            "\(round)")
    }

    /// Inspectors at several desks opening findings at the same moment each get the next free id.
    @Test func findingsOpenedAtOnceEachGetTheirOwnID() async throws {
        let runs = try await withThrowingTaskGroup(of: Run.self) { group in
            for desk in 1...6 {
                group.addTask {
                    try await sunshine(
                        ["finding", "open", "--team", "team-0\(desk)", "--category", "c", "--severity", "low", "--title", "desk \(desk)"]
                            + self.clerk)
                }
            }
            return try await group.reduce(into: [Run]()) { $0.append($1) }
        }
        for run in runs { #expect(run.status == 0, "\(run)") }
        let listed = try await sunshine(["finding", "list", "--json"] + clerk).json(FindingListShape.self).findings
        #expect(listed.map(\.id).sorted() == (1...6).map { String(format: "f-%03d", $0) })
    }

    @Test func findingsAreOpenedEditedAnnotatedAndListed() async throws {
        let opened = try await sunshine(
            [
                "finding", "open", "--team", "team-01", "--category", "procedure", "--severity", "medium",
                "--title", "Seal number differs",
            ] + clerk)
        #expect(opened.status == 0 && opened.stdout.contains("Opened finding/township-01/f-001"), "\(opened)")
        let updated = try await sunshine(
            ["finding", "update", "f-001", "--severity", "high", "--status", "investigating"] + clerk)
        #expect(updated.status == 0, "\(updated)")
        let noted = try await sunshine(["finding", "note", "f-001", "Photographed the seal."] + clerk)
        #expect(noted.status == 0, "\(noted)")
        let json = try await sunshine(["finding", "list", "--json"] + clerk)
        let finding = try #require(try json.json(FindingListShape.self).findings.first)
        #expect(
            (finding.id, finding.severity, finding.status, finding.notes) == (
                "f-001", "high", "investigating", ["Photographed the seal."]
            ))
        #expect(finding.title == "Seal number differs" && !finding.sent)
        #expect(try await validate(json.stdout, against: "cli/finding-list.schema.json").status == 0)
        let table = try await sunshine(["finding", "list"] + clerk)
        #expect(table.stdout.contains("f-001") && table.stdout.contains("investigating"), "\(table)")

        let twice = try await sunshine(
            ["finding", "open", "--id", "f-001", "--team", "t", "--category", "c", "--severity", "low", "--title", "x"]
                + clerk)
        #expect(
            twice.status != 0 && twice.stderr.contains("A finding is already recorded as finding/township-01/f-001"),
            "\(twice)")
        let long = try await sunshine(["finding", "note", "f-001", String(repeating: "x", count: 4_001)] + clerk)
        #expect(
            long.status != 0 && long.stderr.contains("entry 2 is 4001 bytes long; each is at most 4000 bytes"),
            "\(long)")
        #expect(!long.stderr.contains("only strings"), "\(long)")
        let missing = try await sunshine(["finding", "note", "f-404", "text"] + clerk)
        #expect(
            missing.status != 0
                && missing.stderr.contains("No finding of this township is recorded as finding/township-01/f-404"),
            "\(missing)")
    }

    @Test func localStatusSaysWhetherTheBallotsReachedTheCounty() async throws {
        _ = try await sunshine(["ballot", "add"] + clerk + paperFlags + ["--choice", "cand-01"])
        let before = try await sunshine(["local", "status"] + clerk)
        #expect(before.status == 0 && before.stdout.contains("Not yet: this store has never synced"), "\(before)")
        try await county.startCoordinator()
        try await county.publish(sampleContest, id: "committee-2026")
        _ = try await county.coordinator!.county.closeRound(contest: "committee-2026", round: "vote-1", evenIfBehind: true)
        try county.startAgent("township-01")
        try await county.waitUntilSent("township-01")
        await county.stopAll()

        let after = try await sunshine(["local", "status"] + clerk)
        #expect(
            after.stdout.contains(
                "Yes: everything recorded here reached the county, but it refused 1 version (below)."), "\(after)")
        #expect(after.stdout.contains("round_closed"))
        let json = try await sunshine(["local", "status", "--json"] + clerk)
        let status = try json.json(LocalStatusShape.self)
        #expect(status.unsent == 0 && status.ballots == 1 && status.refusedTotal == 1 && status.lastSync != nil)
        #expect(try await validate(json.stdout, against: "cli/local-status.schema.json").status == 0)
    }

    /// The attack's repro-23: a mistyped --data showed an empty township and exited 0, and a
    /// mistyped contest id was recorded as a paper that never counts.
    @Test func aMistypedDataDirectoryOrContestIsSaidNotRecorded() async throws {
        let typo = ["--node", "township-01", "--data", county.data + "/tonwship-01"]
        let status = try await sunshine(["local", "status"] + typo)
        #expect(status.status != 0 && status.stderr.contains("There is no store of township-01 at"), "\(status)")
        #expect(!FileManager.default.fileExists(atPath: county.data + "/tonwship-01/township-01.sqlite"), "nothing was made")
        let first = try await sunshine(["ballot", "add"] + clerk + paperFlags + ["--choice", "cand-01"])
        #expect(first.status == 0 && first.stderr.contains("Made a new store for township-01"), "\(first)")

        try await county.startCoordinator()
        try await county.publish(sampleContest, id: "committee-2026")
        try county.startAgent("township-01")
        try await county.waitUntilSent("township-01")
        await county.stopAll()
        let mistyped = ["--contest", "commitee-2026", "--round", "vote-1", "--station", "s01", "--serial", "9"]
        let add = try await sunshine(["ballot", "add"] + clerk + mistyped + ["--choice", "cand-01"])
        #expect(add.status != 0, "\(add)")
        #expect(add.stderr.contains("this store holds no contest commitee-2026; township-01's contests are committee-2026"), "\(add)")
        #expect(add.isClean, "\(add)")
    }

    @Test func aBusyDatabaseIsSaidInOneSentence() async throws {
        _ = try await sunshine(["ballot", "add"] + clerk + paperFlags + ["--choice", "cand-01"])
        let store = try county.store("township-01")
        let holding = Task {
            try await store.write { tx in
                try tx.setCheckpoint("held-by-the-test", to: 1)
                Thread.sleep(forTimeInterval: 13)
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let run = try await sunshine(
            ["ballot", "add"] + clerk + ["--contest", "c", "--round", "r", "--station", "s", "--serial", "1"])
        _ = try await holding.value
        #expect(run.status != 0)
        #expect(
            run.stderr.contains(
                "is busy: another program held it locked for more than 10 s; nothing was written, try again."), "\(run)"
        )
        #expect(run.isClean)
    }

    @Test(.enabled(if: ClerkCommandTests.canMount, "needs root to mount a small tmpfs"))
    func aFullDiskIsSaidInOneSentence() async throws {
        let mountPoint = NSTemporaryDirectory() + "sunshine-full-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try runProcess("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint]).status == 0)
        defer {
            _ = try? runProcess("umount", ["-l", mountPoint])
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        let flags = ["--node", "township-01", "--data", mountPoint]
        #expect(try await sunshine(["ballot", "add"] + flags + paperFlags + ["--choice", "cand-01"]).status == 0)
        // The agent has the store open (its WAL and shared memory exist); then the disk fills up.
        let agentsStore = try SQLiteStore(path: mountPoint + "/township-01.sqlite", node: "township-01")
        _ = try await agentsStore.read { try $0.latestSeq() }
        let filler =
            FileHandle(forWritingAtPath: mountPoint + "/filler")
            ?? {
                FileManager.default.createFile(atPath: mountPoint + "/filler", contents: nil)
                return FileHandle(forWritingAtPath: mountPoint + "/filler")!
            }()
        let block = Data(count: 4096)
        while (try? filler.write(contentsOf: block)) != nil {}
        try? filler.close()
        let sheet = (1...50).map { "committee-2026,vote-1,s02,\($0),cand-01;cand-02" }.joined(separator: "\n")
        let run = try await sunshine(
            ["ballot", "import", "-"] + flags, input: "contest,round,station,serial,choices\n" + sheet)
        #expect(run.status != 0)
        #expect(run.stderr.contains("is full; nothing was written. Free some space and try again."), "\(run)")
        #expect(run.isClean)
        withExtendedLifetime(agentsStore) {}
    }

    /// With no agent running, SQLite cannot even make the store's shared-memory file on a full disk;
    /// that is a full disk too, not a damaged store to restore or move aside (unsent ballots are in it).
    @Test(.enabled(if: ClerkCommandTests.canMount, "needs root to mount a small tmpfs"))
    func aFullDiskWithNoAgentRunningIsSaidToBeFullNotDamaged() async throws {
        let disk = try ScratchMount(sizeKiB: 700)
        let flags = ["--node", "township-01", "--data", disk.path + "/t1"]
        #expect(try await sunshine(["ballot", "add"] + flags + paperFlags + ["--choice", "cand-01"]).status == 0)
        #expect(disk.fill() == 0, "the disk is full")
        let serial8 = ["--contest", "committee-2026", "--round", "vote-1", "--station", "s01", "--serial", "8"]
        let add = try await sunshine(["ballot", "add"] + flags + serial8 + ["--choice", "cand-01"])
        #expect(add.status != 0, "\(add)")
        let full = "The disk holding \(disk.path)/t1/township-01.sqlite is full; nothing was written. Free some space and try again."
        #expect(add.stderr.contains(full), "\(add)")
        #expect(!add.stderr.contains("aside") && !add.stderr.contains("restore"), "\(add)")
        #expect(add.isClean, "\(add)")
        // Reading may still work (SQLite sometimes finds room for its shared memory); when it does
        // not, it says the same.
        let status = try await sunshine(["local", "status"] + flags)
        #expect(status.status == 0 || status.stderr.contains(full), "\(status)")
        disk.free()
        let afterwards = try await sunshine(["local", "status", "--json"] + flags)
        #expect(afterwards.status == 0, "\(afterwards)")
        #expect(try afterwards.json(LocalStatusShape.self).unsent == 1, "the unsent ballot is still there")
    }

    @Test func aDataPathThatIsAFileIsSaidToBeAFile() async throws {
        let file = county.data + "-passwd"
        try Data("root:x:0:0\n".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let run = try await sunshine(["local", "status", "--node", "township-01", "--data", file])
        #expect(run.status != 0)
        #expect(run.stderr.contains("\(file) is a file, not a directory"), "\(run)")
        #expect(!run.stderr.contains("aside") && !run.stderr.contains("restore"), "\(run)")
        #expect(run.isClean, "\(run)")
    }

    static var canMount: Bool { geteuid() == 0 }
}

private struct BallotListShape: Decodable {
    struct Entry: Decodable {
        var key: String
        var serial: Int64
        var choices: [String]
        var valid: Bool
        var correction: String?
        var voided: Bool
        var sent: Bool
    }

    var ballots: [Entry]
}

private struct ImportShape: Decodable {
    struct Skipped: Decodable {
        var line: Int
        var message: String
    }

    var recorded: [String]
    var skipped: [Skipped]
}

private struct FindingListShape: Decodable {
    struct Entry: Decodable {
        var id: String
        var severity: String
        var status: String
        var title: String
        var notes: [String]
        var sent: Bool
    }

    var findings: [Entry]
}

private struct LocalStatusShape: Decodable {
    var ballots: Int
    var unsent: Int64
    var refusedTotal: Int
    var lastSync: String?
}
