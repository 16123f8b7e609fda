import Foundation
import SunshineConsole
import SunshineWire

/// What the dashboard knows at a moment: the coordinator it watches, the last status it got, and
/// how its connection stands.
struct DashboardState: Sendable {
    enum Connection: Sendable, Equatable {
        case connecting
        case connected
        /// Not connected, with the sentence saying why, and when the next attempt is.
        case lost(reason: String, retryAt: Date, attempt: Int)
    }

    var coordinator: String
    var status: StatusResult?
    /// When `status` arrived.
    var received: Date?
    var connection: Connection = .connecting
}

/// The dashboard's picture, a pure function of its state, the window and the time, so that the
/// live view, `--once` and the tests draw exactly the same thing.
enum DashboardScreen {
    /// The frame for a window of `size`, or of unbounded height and natural width when nil (`--once`
    /// to a file). The township table keeps what needs attention at the top, so when the window is
    /// too short the rows left out are the quiet ones, and a line says how many.
    static func frame(_ state: DashboardState, size: TerminalSize?, now: Date) -> SunshineConsole.Frame {
        let width = size?.columns
        var top: [StyledText] = [
            StyledText("Sunshine county dashboard", style: .bold)
                + StyledText("  coordinator \(state.coordinator)  \(Clock.dateTime(now))", style: .dim)
        ]
        switch state.connection {
        case .connecting:
            top.append(StyledText("Connecting to \(state.coordinator) …", style: .yellow))
        case .connected:
            break
        case .lost(let reason, let retryAt, let attempt):
            let seconds = max(0, Int(retryAt.timeIntervalSince(now).rounded(.up)))
            let shown = state.received.map { "; showing what it said at \(Clock.time($0))" } ?? ""
            top.append(StyledText("Not connected: \(reason)", style: TextStyle(color: .red, bold: true)))
            top.append(StyledText("Retrying in \(seconds) s (attempt \(attempt + 1))\(shown).", style: .red))
        }
        let footer = StyledText("q or Ctrl-C quits · refreshes every second and at once on a change", style: .dim)
        guard let status = state.status else { return SunshineConsole.Frame(top + ["", footer]) }

        let totals = CountyViews.totals(status, now: now, width: width)
        let table = CountyViews.townships(status, now: now, width: width)
        let events = status.events ?? []
        let eventTitle = StyledText("Latest events", style: .bold)
        guard let rows = size?.rows else {
            return SunshineConsole.Frame(
                top + totals + [""] + table + ["", eventTitle] + CountyViews.events(events, limit: 10))
        }
        // Fixed lines: top, totals, a gap, the table's header, a gap, the events' title, the footer.
        let fixed = top.count + totals.count + 1 + 1 + 1 + 1 + 1
        let townshipRows = table.count - 1
        let room = max(0, rows - fixed)
        let wantedEvents = min(max(events.count, 1), 8)
        let eventRows = min(wantedEvents, max(min(3, wantedEvents), room - townshipRows))
        var shownRows = max(0, room - eventRows)
        var body = Array(table.prefix(1))
        if shownRows >= townshipRows {
            body += table.dropFirst()
        } else {
            shownRows = max(0, shownRows - 1)
            body += table.dropFirst().prefix(shownRows)
            body.append(
                StyledText(
                    "… \(townshipRows - shownRows) more townships; those needing attention are listed first",
                    style: .dim))
        }
        let eventLines = CountyViews.events(events, limit: max(0, rows - fixed - (body.count - 1)))
        return SunshineConsole.Frame(top + totals + [""] + body + ["", eventTitle] + eventLines + [footer])
    }
}
