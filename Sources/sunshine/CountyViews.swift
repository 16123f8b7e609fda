import Foundation
import SunshineConsole
import SunshineWire

/// The readable forms of what the coordinator answers operators: pure functions from a method's
/// result to lines of styled text, shared by the one-shot commands, the dashboard and the demo.
enum CountyViews {
    // MARK: Status

    /// The cluster's totals: what is connected and counted, then where the log is — each part a
    /// label and a value, flowed onto as many lines as `width` needs.
    static func totals(_ status: StatusResult, now: Date, width: Int? = nil) -> [StyledText] {
        let totals = status.totals
        func part(_ label: String, _ value: String, _ style: TextStyle = .plain) -> StyledText {
            StyledText(label + " ", style: .bold) + StyledText(value, style: style)
        }
        let changed = Clock.date(totals.lastChange).map { "\(Clock.time($0)) (\(Clock.ago($0, now: now)))" }
        let counted = [
            part(
                "Townships", "\(totals.online)/\(totals.townships) online",
                totals.online < totals.townships ? .yellow : .green),
            part("Ballots", "\(totals.ballots)"),
            part("Open conflicts", "\(totals.openConflicts)", totals.openConflicts > 0 ? .red : .plain),
            part("Quarantined", "\(totals.quarantined)", totals.quarantined > 0 ? .yellow : .plain),
            part("Held aside", "\(totals.rejected)", totals.rejected > 0 ? .red : .plain),
        ]
        let log = [
            part("Findings", "\(totals.findings)"), part("Contests", "\(totals.contests)"),
            part("Log position", "\(totals.seq)"),
            part("Last change", changed ?? "none since the coordinator started", changed == nil ? .dim : .plain),
        ]
        return flow(counted, width: width) + flow(log, width: width)
    }

    /// Parts three spaces apart, a new line started wherever the next part would pass `width`.
    static func flow(_ parts: [StyledText], width: Int?) -> [StyledText] {
        var lines: [StyledText] = []
        var line = StyledText()
        for part in parts {
            if line.displayWidth == 0 {
                line = part
            } else if let width, line.displayWidth + 3 + part.displayWidth > width {
                lines.append(line)
                line = part
            } else {
                line += StyledText("   ") + part
            }
        }
        return line.displayWidth == 0 ? lines : lines + [line]
    }

    /// Townships, what needs attention first: refused versions or open conflicts (an operator must
    /// act), then offline, then changes not yet sent, then open findings of high or critical
    /// severity, then the rest; by name within each.
    static func byAttention(_ townships: [StatusResult.Township]) -> [StatusResult.Township] {
        func rank(_ row: StatusResult.Township) -> Int {
            if row.conflicts > 0 || row.rejected > 0 { return 0 }
            if !row.online { return 1 }
            if (row.outbox ?? 0) > 0 { return 2 }
            if let open = row.openFindings, open.critical + open.high > 0 { return 3 }
            return 4
        }
        return townships.sorted { (rank($0), $0.node) < (rank($1), $1.node) }
    }

    /// One row per township, in attention order, laid out to `width` columns: the name gives way
    /// first, then the least important columns.
    static func townships(_ status: StatusResult, now: Date, width: Int?) -> [StyledText] {
        let columns = [
            TableColumn("TOWNSHIP", minWidth: 8, priority: 9, flexible: true),
            TableColumn("STATE", priority: 9),
            TableColumn("LAST SEEN", priority: 4),
            TableColumn("ACKED/SEQ", alignment: .right, priority: 5),
            TableColumn("OUTBOX", alignment: .right, priority: 7),
            TableColumn("BALLOTS", alignment: .right, priority: 8),
            TableColumn("OPEN FINDINGS", priority: 6),
            TableColumn("CONFLICTS", alignment: .right, priority: 8),
            TableColumn("REJECTED", alignment: .right, priority: 8),
        ]
        let rows = byAttention(status.townships).map { row -> [StyledText] in
            let seen = Clock.date(row.lastSeen).map { Clock.ago($0, now: now) } ?? "never"
            let outbox =
                row.outbox.map { StyledText("\($0)", style: $0 > 0 ? .yellow : .plain) } ?? StyledText("?", style: .dim)
            return [
                StyledText(row.node, style: row.online ? .plain : .bold),
                row.online
                    ? StyledText("online", style: .green)
                    : StyledText("offline", style: TextStyle(color: .red, bold: true)),
                StyledText(seen, style: row.online ? .plain : .dim),
                StyledText("\(row.checkpoint)/" + (row.reportedSeq.map(String.init) ?? "?")),
                outbox,
                StyledText("\(row.ballots)"),
                findings(row.openFindings),
                StyledText("\(row.conflicts)", style: row.conflicts > 0 ? TextStyle(color: .red, bold: true) : .plain),
                StyledText("\(row.rejected)", style: row.rejected > 0 ? TextStyle(color: .red, bold: true) : .plain),
            ]
        }
        return Table(columns: columns, rows: rows).lines(width: width ?? Int.max)
    }

    /// Open findings: the total, and the count of the most severe level when it is high or critical.
    static func findings(_ open: StatusResult.OpenFindings?) -> StyledText {
        guard let open else { return StyledText("?", style: .dim) }
        if open.critical > 0 {
            return StyledText("\(open.total) (\(open.critical) critical)", style: TextStyle(color: .red, bold: true))
        }
        if open.high > 0 { return StyledText("\(open.total) (\(open.high) high)", style: .red) }
        if open.medium > 0 { return StyledText("\(open.total) (\(open.medium) medium)", style: .yellow) }
        return StyledText("\(open.total)", style: open.total > 0 ? .plain : .dim)
    }

    /// The newest events, one a line: local time, then the message, coloured by kind.
    static func events(_ events: [StatusResult.Event], limit: Int) -> [StyledText] {
        guard !events.isEmpty else { return [StyledText("No events since the coordinator started.", style: .dim)] }
        return events.prefix(max(0, limit)).map { event in
            let style: TextStyle
            switch event.kind {
            case "offline", "refused": style = .red
            case "conflict", "quarantined": style = .yellow
            case "connected", "resolved": style = .green
            default: style = .cyan
            }
            let time = Clock.date(event.at).map(Clock.time) ?? event.at
            return StyledText(time + "  ", style: .dim) + StyledText(event.message, style: style)
        }
    }

    /// `sunshine status`: totals, the townships, and the latest events.
    static func status(_ status: StatusResult, now: Date, width: Int?) -> [StyledText] {
        var lines = totals(status, now: now, width: width) + [""] + townships(status, now: now, width: width)
        if let events = status.events {
            lines += ["", StyledText("Latest events", style: .bold)] + self.events(events, limit: 10)
        }
        return lines
    }

    // MARK: Tally

    /// `sunshine tally`: one detailed block per round for one contest, else one summary row per
    /// round that has ballots or is closed.
    static func tally(_ result: TallyResult, detailed: Bool, width: Int?) -> [StyledText] {
        guard !result.rounds.isEmpty else { return [StyledText("No contest is published yet.", style: .dim)] }
        if detailed {
            let (shown, empty) = (result.rounds.filter(hasBallots), result.rounds.filter { !hasBallots($0) })
            var lines: [StyledText] = shown.flatMap { round(detail: $0, width: width) + [StyledText()] }
            if !empty.isEmpty {
                let names = empty.map(\.round).joined(separator: ", ")
                lines.append(StyledText("No ballots yet in round\(empty.count == 1 ? "" : "s") \(names).", style: .dim))
            }
            return lines.last?.displayWidth == 0 ? Array(lines.dropLast()) : lines
        }
        let shown = result.rounds.filter(hasBallots)
        let columns = [
            TableColumn("CONTEST", minWidth: 10, priority: 9, flexible: true),
            TableColumn("ROUND", priority: 9),
            TableColumn("STATE", priority: 7),
            TableColumn("VALID", alignment: .right, priority: 8),
            TableColumn("INVALID", alignment: .right, priority: 8),
            TableColumn("QUARANTINED", alignment: .right, priority: 8),
            TableColumn("LEADING", priority: 3),
        ]
        let rows = shown.map { round -> [StyledText] in
            let leading = round.candidates.filter { $0.votes > 0 }.sorted { ($1.votes, $0.id) < ($0.votes, $1.id) }
                .prefix(3)
            return [
                StyledText(round.contest), StyledText(round.round), state(round),
                StyledText("\(round.valid)"), StyledText("\(round.invalid)"),
                StyledText("\(round.quarantined)", style: round.quarantined > 0 ? .yellow : .plain),
                StyledText(leading.map { "\($0.name) \($0.votes)" }.joined(separator: ", ")),
            ]
        }
        var lines =
            shown.isEmpty
            ? [StyledText("No round has ballots yet.", style: .dim)]
            : Table(columns: columns, rows: rows).lines(width: width ?? Int.max)
        let hidden = result.rounds.count - shown.count
        if hidden > 0 {
            lines.append(
                StyledText(
                    "\(hidden) open rounds without ballots are not shown; "
                        + "`--contest C` shows every round of one contest.",
                    style: .dim))
        }
        let counted = shown.reduce(0) { $0 + $1.valid + $1.invalid + $1.quarantined }
        lines.append(
            StyledText(
                "\(counted) ballots in \(shown.count) rounds: \(shown.reduce(0) { $0 + $1.valid }) valid, "
                    + "\(shown.reduce(0) { $0 + $1.invalid }) invalid, "
                    + "\(shown.reduce(0) { $0 + $1.quarantined }) quarantined."
            ))
        return lines
    }

    /// Whether a round has anything to show: a ballot, or being closed.
    private static func hasBallots(_ round: TallyResult.Round) -> Bool {
        round.closed || round.valid + round.invalid + round.quarantined > 0
    }

    private static func state(_ round: TallyResult.Round) -> StyledText {
        round.closed ? StyledText("closed", style: .bold) : StyledText("open", style: .green)
    }

    /// One round of one contest: its candidates' votes and shares, and its totals.
    static func round(detail round: TallyResult.Round, width: Int?) -> [StyledText] {
        let title =
            StyledText("\(round.contest) · \(round.title) · round \(round.round) · ", style: .bold) + state(round)
        let columns = [
            TableColumn("CANDIDATE", priority: 5), TableColumn("NAME", minWidth: 6, priority: 9, flexible: true),
            TableColumn("VOTES", alignment: .right, priority: 9),
            TableColumn("OF VALID", alignment: .right, priority: 4),
        ]
        let rows = round.candidates.map { candidate -> [StyledText] in
            let share =
                round.valid == 0 ? "–" : String(format: "%.1f%%", Double(candidate.votes) * 100 / Double(round.valid))
            return [
                StyledText(candidate.id), StyledText(candidate.name), StyledText("\(candidate.votes)"),
                StyledText(share),
            ]
        }
        let reporting = round.townshipsReporting.isEmpty ? "none yet" : round.townshipsReporting.joined(separator: ", ")
        let summary =
            StyledText("valid \(round.valid) · invalid \(round.invalid) · ")
            + StyledText("quarantined \(round.quarantined)", style: round.quarantined > 0 ? .yellow : .plain)
            + StyledText(" · reporting: \(reporting)")
        return [title] + Table(columns: columns, rows: rows).lines(width: width ?? Int.max) + [summary]
    }

    // MARK: Conflicts and refusals

    /// `sunshine conflicts`: one row per open conflict, and how to end one.
    static func conflicts(_ result: ConflictsResult, width: Int?) -> [StyledText] {
        guard !result.conflicts.isEmpty else { return [StyledText("No open conflicts.", style: .green)] }
        let columns = [
            TableColumn("KEY", minWidth: 16, priority: 9, flexible: true), TableColumn("KIND", priority: 5),
            TableColumn("REASON", priority: 8), TableColumn("VERSIONS FROM", priority: 7),
            TableColumn("SHOWN MEANWHILE", priority: 3),
        ]
        let rows = result.conflicts.map { conflict -> [StyledText] in
            let origins = conflict.siblings.compactMap { $0["origin"]?.stringValue }
            let data = conflict.current["data"]
            let shown: String
            switch conflict.kind {
            case "finding":
                shown =
                    "\(data?["status"]?.stringValue ?? "?"), \(data?["severity"]?.stringValue ?? "?"): "
                    + "\(data?["title"]?.stringValue ?? "")"
            case "ballot":
                shown = "quarantined, not counted"
            default:
                shown = data?["title"]?.stringValue ?? ""
            }
            return [
                StyledText(conflict.key), StyledText(conflict.kind),
                StyledText(
                    conflict.reason,
                    style: conflict.reason == "integrity" ? TextStyle(color: .red, bold: true) : .yellow),
                StyledText(origins.joined(separator: ", ")), StyledText(shown),
            ]
        }
        return Table(columns: columns, rows: rows).lines(width: width ?? Int.max) + [
            "",
            StyledText(
                "End one with `sunshine resolve KEY --data FILE` (the agreed data as JSON); "
                    + "--json shows every version.",
                style: .dim),
        ] + (result.more ? [StyledText("More conflicts are open than one answer holds: these are the oldest; resolving them shows the next.", style: .yellow)] : [])
    }

    /// `sunshine rejected`: the versions held aside, newest first.
    static func rejected(_ result: RejectedResult, width: Int?) -> [StyledText] {
        guard !result.rejected.isEmpty else { return [StyledText("Nothing is held aside.", style: .green)] }
        let columns = [
            TableColumn("ID", priority: 4), TableColumn("WHEN", priority: 6), TableColumn("SENDER", priority: 8), TableColumn("REASON", priority: 9),
            TableColumn("KEY", minWidth: 16, priority: 9, flexible: true), TableColumn("WHY", priority: 5),
        ]
        let rows = result.rejected.map { entry -> [StyledText] in
            [
                StyledText(entry.id.map(String.init) ?? ""), StyledText(Clock.date(entry.at).map(Clock.dateTime) ?? entry.at), StyledText(entry.sender),
                StyledText(entry.reason, style: .red), StyledText(entry.key), StyledText(entry.message),
            ]
        }
        return Table(columns: columns, rows: rows).lines(width: width ?? Int.max)
            + (result.more
                ? [
                    "",
                    StyledText(
                        "More are held aside than shown; the next, older ones: sunshine rejected --before \(result.rejected.last?.id.map(String.init) ?? "ID")"
                            + " (with the same --township).", style: .yellow),
                ] : [])
    }
}
