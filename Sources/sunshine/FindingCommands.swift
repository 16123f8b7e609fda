import ArgumentParser
import Foundation
import SunshineConsole
import SunshineModel
import SunshineTownship

struct FindingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finding",
        abstract: "Open, edit, annotate and list the inspection teams' findings in the township's own store.",
        subcommands: [Open.self, Update.self, Note.self, List.self]
    )

    static func severity(_ text: String) throws -> Finding.Severity {
        guard let severity = Finding.Severity(rawValue: text) else {
            throw ValidationError("--severity must be low, medium, high or critical.")
        }
        return severity
    }

    static func status(_ text: String) throws -> Finding.Status {
        guard let status = Finding.Status(rawValue: text) else {
            throw ValidationError("--status must be open, investigating, resolved or dismissed.")
        }
        return status
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open a new finding about this township.")
        @OptionGroup var township: TownshipStoreOptions
        @Option(help: "Its id (its key is finding/TOWNSHIP/ID); by default the next free f-NNN.") var id: String?
        @Option(help: "The inspection team, e.g. team-03.") var team: String
        @Option(help: "What it is about, e.g. procedure or atmosphere.") var category: String
        @Option(help: "low, medium, high or critical.") var severity: String
        @Option(help: "open, investigating, resolved or dismissed.") var status = "open"
        @Option(help: "One line.") var title: String
        @Option(help: "Details.") var details = ""
        @Option(name: .customLong("note"), help: "A note; repeatable.") var notes: [String] = []

        func run() async throws {
            let finding = Finding(
                team: team, category: category, severity: try FindingCommand.severity(severity),
                status: try FindingCommand.status(status),
                title: title, details: details, notes: notes
            )
            let office = try township.open()
            Output.say(recordedLine(try await writeLocally { try await office.open(finding, id: id) }, "Opened"))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change some of a finding's fields; the others stay as they are.")
        @OptionGroup var township: TownshipStoreOptions
        @Argument(help: "The finding's id.") var id: String
        @Option(help: "The inspection team.") var team: String?
        @Option(help: "What it is about.") var category: String?
        @Option(help: "low, medium, high or critical.") var severity: String?
        @Option(help: "open, investigating, resolved or dismissed.") var status: String?
        @Option(help: "One line.") var title: String?
        @Option(help: "Details.") var details: String?

        func validate() throws {
            guard [team, category, severity, status, title, details].contains(where: { $0 != nil }) else {
                throw ValidationError(
                    "Say what changes: --team, --category, --severity, --status, --title or --details.")
            }
        }

        func run() async throws {
            let (team, category, title, details) = (self.team, self.category, self.title, self.details)
            let severity = try self.severity.map(FindingCommand.severity)
            let status = try self.status.map(FindingCommand.status)
            let office = try township.open()
            let record = try await writeLocally {
                try await office.editFinding(id) { finding in
                    if let team { finding.team = team }
                    if let category { finding.category = category }
                    if let severity { finding.severity = severity }
                    if let status { finding.status = status }
                    if let title { finding.title = title }
                    if let details { finding.details = details }
                }
            }
            Output.say(recordedLine(record, "Updated"))
        }
    }

    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note to a finding.")
        @OptionGroup var township: TownshipStoreOptions
        @Argument(help: "The finding's id.") var id: String
        @Argument(help: "The note.") var text: String

        func run() async throws {
            let office = try township.open()
            let text = self.text
            Output.say(
                recordedLine(
                    try await writeLocally { try await office.editFinding(id) { $0.notes.append(text) } }, "Noted on"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the findings held here, most severe first.")
        @OptionGroup var township: TownshipStoreOptions
        @Flag(help: "Every township's findings (they are county-wide), not only this township's.") var all = false
        @Option(help: "Only findings with this status.") var status: String?
        @Flag(help: "Print JSON (proto-schemas/cli/finding-list.schema.json).") var json = false

        func run() async throws {
            let wanted = try status.map(FindingCommand.status)
            let findings = try await township.open(reading: true).findings(all: all)
                .filter { entry in !entry.record.deleted && (wanted.map { entry.value.status == $0 } ?? true) }
                .sorted { ($1.value.severity, $0.record.key) < ($0.value.severity, $1.record.key) }
            if json { return try Output.json(FindingList(findings: findings.map(FindingList.Entry.init))) }
            guard !findings.isEmpty else {
                return Output.say("No findings recorded here\(wanted == nil ? "" : " with status \(status ?? "")").")
            }
            var columns = [
                TableColumn("ID", priority: 9), TableColumn("TOWNSHIP", priority: 8),
                TableColumn("SEVERITY", priority: 9),
                TableColumn("STATUS", priority: 9), TableColumn("TEAM", priority: 5),
                TableColumn("CATEGORY", priority: 4),
                TableColumn("TITLE", minWidth: 10, priority: 9, flexible: true),
                TableColumn("NOTES", alignment: .right, priority: 3),
                TableColumn("SENT", priority: 7),
            ]
            var rows = findings.map { entry -> [StyledText] in
                let finding = entry.value
                let severity: TextStyle =
                    finding.severity >= .high ? .red : (finding.severity == .medium ? .yellow : .plain)
                return [
                    StyledText(String(entry.record.key.split(separator: "/").last ?? "")),
                    StyledText(entry.record.township),
                    StyledText(finding.severity.rawValue, style: severity),
                    StyledText(
                        finding.status.rawValue + (entry.inConflict ? " (in conflict)" : ""),
                        style: entry.inConflict ? .yellow : .plain),
                    StyledText(finding.team), StyledText(finding.category), StyledText(finding.title),
                    StyledText("\(finding.notes.count)"),
                    entry.sent ? StyledText("yes", style: .green) : StyledText("not yet", style: .yellow),
                ]
            }
            if !all {
                columns.remove(at: 1)
                rows = rows.map { row in
                    var row = row; row.remove(at: 1); return row
                }
            }
            Output.lines(Table(columns: columns, rows: rows).lines(width: Output.width ?? Int.max))
        }
    }
}

/// `sunshine finding list --json` (proto-schemas/cli/finding-list.schema.json).
struct FindingList: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var key: String
        var id: String
        var township: String
        var team: String
        var category: String
        var severity: String
        var status: String
        var title: String
        var details: String
        var notes: [String]
        var inConflict: Bool
        /// The county acknowledged its current version, or it came from the county.
        var sent: Bool

        init(_ entry: LocalRecord<Finding>) {
            key = entry.record.key
            id = String(entry.record.key.split(separator: "/").last ?? "")
            township = entry.record.township
            team = entry.value.team
            category = entry.value.category
            severity = entry.value.severity.rawValue
            status = entry.value.status.rawValue
            title = entry.value.title
            details = entry.value.details
            notes = entry.value.notes
            inConflict = entry.inConflict
            sent = entry.sent
        }
    }

    var findings: [Entry]
}
