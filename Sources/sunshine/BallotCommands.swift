import ArgumentParser
import Foundation
import SunshineConsole
import SunshineModel
import SunshineTownship

struct BallotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballot",
        abstract: "Record, import, list and correct ballot papers in the township's own store (no network needed).",
        subcommands: [Add.self, Import.self, List.self, Correct.self, VoidPaper.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record one ballot paper; its serial must not be in use.")
        @OptionGroup var township: TownshipStoreOptions
        @OptionGroup var paper: PaperOptions
        @Option(name: .customLong("choice"), help: "A candidate id marked on the paper; repeatable.") var choices:
            [String] = []
        @Flag(help: "The counting clerk judged the paper invalid (spoilt).") var invalid = false

        func run() async throws {
            let office = try township.open()
            let ballot = paper.ballot(choices: choices, valid: !invalid)
            if let problem = checkPaper(ballot, township: office.node, contests: try await office.contests()) {
                throw CommandFailure("Not recorded: \(problem).")
            }
            Output.say(recordedLine(try await writeLocally { try await office.record(ballot) }))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Record every paper of a CSV sheet, all or none.",
            discussion: """
                The first line names the columns contest, round, station, serial, choices and optionally valid, in any \
                order; each further line is one paper. choices are candidate ids separated by ';'; valid is yes or no \
                (default yes). Every row is checked first: if one is wrong, each bad row is listed with its line number \
                and nothing is written — unless --skip-invalid, which writes the valid rows and lists the rest.
                """
        )
        @OptionGroup var township: TownshipStoreOptions
        @Argument(help: "The CSV file, or - for standard input.") var file: String
        @Flag(help: "Write the valid rows and list the others, instead of writing nothing.") var skipInvalid = false
        @Flag(help: "Print the result as JSON (proto-schemas/cli/ballot-import.schema.json).") var json = false

        func run() async throws {
            let data: Data
            if file == "-" {
                do {
                    data = try FileHandle.standardInput.readToEnd() ?? Data()
                } catch {
                    throw CommandFailure(
                        "Standard input cannot be read (\(error.localizedDescription)); pipe a CSV sheet into it, or give the sheet's path.")
                }
            } else {
                guard let contents = FileManager.default.contents(atPath: file) else {
                    throw CommandFailure(
                        "There is no readable file \(file); give the path of a CSV sheet, or - for standard input.")
                }
                data = contents
            }
            // A sheet saved in another encoding, or not a sheet at all, is refused whole: read as
            // UTF-8 its bytes would become U+FFFD in stored papers.
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure(
                    "\(file == "-" ? "Standard input" : file) is not UTF-8 text, so it is not read as a sheet; nothing was written. "
                        + "Save the sheet as CSV in UTF-8 and import that.")
            }
            let sheet: BallotSheet
            do throws(BallotSheet.Problem) {
                sheet = try BallotSheet(text)
            } catch {
                throw CommandFailure("\(file) line \(error.line): \(error.message); nothing was written.")
            }
            let office = try township.open()
            let rows = try await check(sheet, office: office)
            if !rows.problems.isEmpty && !skipInvalid {
                let count = rows.problems.count
                throw CommandFailure(
                    "\(file) has \(count) invalid row\(count == 1 ? "" : "s"), so nothing from it was written (fix "
                        + "\(count == 1 ? "it" : "them"), or pass --skip-invalid to write the valid rows):\n"
                        + rows.problems.map { "  line \($0.line): \($0.message)" }.joined(separator: "\n")
                )
            }
            let records = try await writeLocally { try await office.record(rows.valid.map(\.ballot)) }
            let result = ImportResult(
                file: file, recorded: records.map(\.key),
                skipped: rows.problems.map { .init(line: $0.line, message: $0.message) }
            )
            if json { return try Output.json(result) }
            Output.say(
                "Recorded \(records.count) paper\(records.count == 1 ? "" : "s") from \(file); "
                    + "the agent sends them to the coordinator when connected."
            )
            if !rows.problems.isEmpty {
                Output.say("Not recorded (\(rows.problems.count)):")
                for problem in rows.problems { Output.say("  line \(problem.line): \(problem.message)") }
            }
        }

        /// Every row checked against the store and the other rows: the papers that may be written,
        /// and the problems in line order.
        private func check(_ sheet: BallotSheet, office: Township) async throws -> (
            valid: [BallotSheet.Row], problems: [BallotSheet.Problem]
        ) {
            let contests = try await office.contests()
            let held = Set(try await office.ballots().map(\.record.key))
            var seen: [String: Int] = [:]
            var valid: [BallotSheet.Row] = []
            var problems = sheet.problems
            for row in sheet.rows {
                let key = row.ballot.key(township: office.node)
                if let problem = checkPaper(row.ballot, township: office.node, contests: contests) {
                    problems.append(.init(line: row.line, message: problem))
                } else if held.contains(key) {
                    problems.append(
                        .init(
                            line: row.line,
                            message: "a paper is already recorded as \(key); correct it with `sunshine ballot correct`")
                    )
                } else if let first = seen[key] {
                    problems.append(.init(line: row.line, message: "the same paper as line \(first) (\(key))"))
                } else {
                    seen[key] = row.line
                    valid.append(row)
                }
            }
            return (valid, problems.sorted { $0.line < $1.line })
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the papers recorded here, and whether each reached the county.")
        @OptionGroup var township: TownshipStoreOptions
        @Option(help: "Only this contest.") var contest: String?
        @Option(help: "Only this round.") var round: String?
        @Option(help: "Only this polling station.") var station: String?
        @Flag(help: "Print JSON (proto-schemas/cli/ballot-list.schema.json).") var json = false

        func run() async throws {
            let papers = try await township.open(reading: true).ballots().filter { paper in
                contest.map { $0 == paper.value.contest } ?? true && round.map { $0 == paper.value.round } ?? true
                    && station.map { $0 == paper.value.station } ?? true
            }
            if json { return try Output.json(BallotList(ballots: papers.map(BallotList.Entry.init))) }
            guard !papers.isEmpty else {
                return Output.say(
                    "No papers recorded here\(contest == nil && round == nil && station == nil ? "" : " match").")
            }
            let columns = [
                TableColumn("CONTEST", minWidth: 8, priority: 6, flexible: true), TableColumn("ROUND", priority: 8),
                TableColumn("STATION", priority: 8), TableColumn("SERIAL", alignment: .right, priority: 9),
                TableColumn("CHOICES", priority: 7),
                TableColumn("STATE", priority: 9), TableColumn("SENT", priority: 9),
            ]
            let rows = papers.map { paper -> [StyledText] in
                let state: StyledText
                if paper.record.deleted {
                    state = StyledText("void", style: .dim)
                } else if paper.quarantined || paper.inConflict {
                    state = StyledText("quarantined", style: .yellow)
                } else {
                    state = paper.value.valid ? StyledText("valid") : StyledText("invalid", style: .yellow)
                }
                let corrected = paper.value.correction == nil ? StyledText() : StyledText(" (corrected)", style: .cyan)
                return [
                    StyledText(paper.value.contest), StyledText(paper.value.round), StyledText(paper.value.station),
                    StyledText("\(paper.value.serial)"),
                    StyledText(paper.value.choices.joined(separator: ", ")), state + corrected,
                    paper.sent ? StyledText("yes", style: .green) : StyledText("not yet", style: .yellow),
                ]
            }
            let unsent = papers.filter { !$0.sent }.count
            let voided = papers.filter(\.record.deleted).count
            Output.lines(
                Table(columns: columns, rows: rows).lines(width: Output.width ?? Int.max) + [
                    StyledText(
                        "\(counted(papers.count, "paper")), \(voided) voided; "
                            + "\(unsent) not yet acknowledged by the county."
                    )
                ])
        }
    }

    struct Correct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a paper recorded wrongly: a new version replaces it everywhere; history keeps both."
        )
        @OptionGroup var township: TownshipStoreOptions
        @OptionGroup var paper: PaperOptions
        @Option(name: .customLong("choice"), help: "A candidate id marked on the paper, as it really is; repeatable.")
        var choices: [String] = []
        @Flag(help: "The paper is invalid (spoilt).") var invalid = false
        @Option(help: "Why it is corrected, e.g. \"entered cand-02 for cand-03\".") var reason: String

        func run() async throws {
            let office = try township.open()
            let ballot = paper.ballot(choices: choices, valid: !invalid)
            if let problem = checkPaper(ballot, township: office.node, contests: try await office.contests()) {
                throw CommandFailure("Not corrected: \(problem).")
            }
            let record = try await writeLocally {
                try await office.correct(ballot.key(township: office.node), to: ballot, reason: reason)
            }
            Output.say(recordedLine(record, "Corrected"))
        }
    }

    struct VoidPaper: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "void",
            abstract: "Void a paper recorded by mistake: it stays in history and is no longer counted."
        )
        @OptionGroup var township: TownshipStoreOptions
        @OptionGroup var paper: PaperOptions
        @Option(help: "Why it is voided, e.g. \"recorded twice under two serials\".") var reason: String

        func run() async throws {
            let office = try township.open()
            let key = paper.ballot(choices: [], valid: true).key(township: office.node)
            Output.say(
                recordedLine(
                    try await writeLocally { try await office.correct(key, to: nil, reason: reason) }, "Voided"))
        }
    }
}

/// `sunshine ballot import --json` (proto-schemas/cli/ballot-import.schema.json).
struct ImportResult: Codable, Sendable {
    struct Skipped: Codable, Sendable {
        var line: Int
        var message: String
    }

    var file: String
    /// The keys of the papers written, in the sheet's order.
    var recorded: [String]
    /// The rows not written (only with --skip-invalid), in line order.
    var skipped: [Skipped]
}

/// `sunshine ballot list --json` (proto-schemas/cli/ballot-list.schema.json).
struct BallotList: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var key: String
        var contest: String
        var round: String
        var station: String
        var serial: Int64
        var choices: [String]
        var valid: Bool
        /// Why the paper was corrected or voided, if it was.
        var correction: String?
        var voided: Bool
        var quarantined: Bool
        /// The county acknowledged its current version.
        var sent: Bool

        init(_ paper: LocalRecord<Ballot>) {
            key = paper.record.key
            contest = paper.value.contest
            round = paper.value.round
            station = paper.value.station
            serial = paper.value.serial
            choices = paper.value.choices
            valid = paper.value.valid
            correction = paper.value.correction
            voided = paper.record.deleted
            quarantined = paper.quarantined || paper.inConflict
            sent = paper.sent
        }
    }

    var ballots: [Entry]
}
