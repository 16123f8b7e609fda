import ArgumentParser
import Foundation
import SunshineConsole
import SunshineModel
import SunshineTownship

struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local", abstract: "What the township's own store holds and has sent.", subcommands: [Status.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Did my ballots reach the county? What is recorded, what is unsent, what the county refused, "
                + "the last sync."
        )
        @OptionGroup var township: TownshipStoreOptions
        @Flag(help: "Print JSON (proto-schemas/cli/local-status.schema.json).") var json = false

        func run() async throws {
            let status = try await township.open(reading: true).localStatus()
            if json { return try Output.json(LocalStatusJSON(status)) }
            Output.lines(Self.lines(status, now: Date()))
        }

        /// The answer first, then the details.
        static func lines(_ status: LocalStatus, now: Date) -> [StyledText] {
            let recorded = "\(counted(status.ballots, "ballot")) and \(counted(status.findings, "finding"))"
            let synced = status.lastSync.map { "\(Clock.dateTime($0)) (\(Clock.ago($0, now: now)))" }
            let answer: StyledText
            if status.unsent == 0 && status.lastSync != nil {
                answer =
                    StyledText("Yes: everything recorded here reached the county", style: .green)
                    + StyledText(
                        status.refusedTotal > 0
                            ? ", but it refused \(counted(status.refusedTotal, "version")) (below)." : ".")
            } else if status.lastSync == nil {
                answer =
                    StyledText("Not yet: this store has never synced; ", style: .yellow)
                    + StyledText(
                        "the agent sends its \(counted(status.unsent, "change")) when it reaches the coordinator.")
            } else {
                answer =
                    StyledText("Not yet: \(counted(status.unsent, "change")) to send; ", style: .yellow)
                    + StyledText("the agent sends them when it is connected.")
            }
            var lines: [StyledText] = [
                StyledText("\(status.node)", style: .bold) + StyledText(" · store \(status.store)", style: .dim),
                answer,
                "",
                StyledText("Recorded      ", style: .bold) + StyledText(recorded),
                StyledText("Unsent        ", style: .bold)
                    + StyledText(counted(status.unsent, "change"), style: status.unsent > 0 ? .yellow : .plain),
                StyledText("Acknowledged  ", style: .bold) + StyledText("every change up to \(status.acknowledged)"),
                StyledText("Last sync     ", style: .bold)
                    + StyledText(synced ?? "never", style: synced == nil ? .yellow : .plain),
                StyledText("Refused       ", style: .bold)
                    + StyledText("\(status.refusedTotal)", style: status.refusedTotal > 0 ? .red : .plain),
            ]
            for refusal in status.refused {
                let when = Clock.date(refusal.at).map(Clock.dateTime) ?? refusal.at
                lines.append(
                    StyledText("  \(when)  ") + StyledText(refusal.reason, style: .red)
                        + StyledText("  \(refusal.key): \(refusal.message)"))
            }
            if status.refusedTotal > status.refused.count {
                lines.append(
                    StyledText(
                        "  … and \(status.refusedTotal - status.refused.count) older; "
                            + "the county's operators list them all with `sunshine rejected`.",
                        style: .dim))
            }
            return lines
        }
    }
}

/// `sunshine local status --json` (proto-schemas/cli/local-status.schema.json).
struct LocalStatusJSON: Codable, Sendable {
    struct Refused: Codable, Sendable {
        var key: String
        var reason: String
        var message: String
        var at: String
    }

    var node: String
    var store: String
    var ballots: Int
    var findings: Int
    var unsent: Int64
    var acknowledged: Int64
    /// ISO 8601; absent when the store never synced.
    var lastSync: String?
    var refusedTotal: Int
    /// The newest refusals, newest first.
    var refused: [Refused]

    init(_ status: LocalStatus) {
        node = status.node
        store = status.store
        ballots = status.ballots
        findings = status.findings
        unsent = status.unsent
        acknowledged = status.acknowledged
        lastSync = status.lastSync?.formatted(.iso8601)
        refusedTotal = status.refusedTotal
        refused = status.refused.map { Refused(key: $0.key, reason: $0.reason, message: $0.message, at: $0.at) }
    }
}
