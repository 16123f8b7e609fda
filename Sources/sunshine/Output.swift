import Foundation
import SunshineConsole

/// How commands print: JSON for scripts, or lines of styled text laid out for the terminal they
/// are shown on — in colour only when standard output is a terminal and `NO_COLOR` is unset.
enum Output {
    /// Prints `value` as JSON: pretty and with sorted keys, or on one line for a stream of objects.
    static func json<T: Encodable>(_ value: T, oneLine: Bool = false) throws {
        FileHandle.standardOutput.write(try encoded(value, oneLine: oneLine) + Data("\n".utf8))
    }

    /// The JSON bytes `json(_:oneLine:)` prints.
    static func encoded<T: Encodable>(_ value: T, oneLine: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            oneLine ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// The columns a table may take: the terminal's width, or nil (natural width) when output is not a terminal.
    static var width: Int? { TerminalSize.of()?.columns }

    /// Prints the lines, cut to the terminal's width, in colour when the policy allows.
    static func lines(_ lines: [StyledText]) {
        // Table cells are padded to their column; a line's trailing padding is of no use outside a full-screen frame.
        let text = SunshineConsole.Frame(lines).text(width: width, color: ColorPolicy.allowsColor())
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.reversed().drop { $0 == " " }.reversed() }
            .map { String($0) }
            .joined(separator: "\n")
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Prints one plain line.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Prints a line the user should notice beside a command's result, on standard error, so
    /// that `--json` output stays one document.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data(("sunshine: " + line + "\n").utf8))
    }
}

/// "1 ballot", "3 ballots": `count` and the word, plural when it is not one (English words that add an s).
func counted(_ count: some BinaryInteger, _ word: String) -> String {
    "\(count) \(word)\(count == 1 ? "" : "s")"
}

/// Times and durations as the tables show them.
enum Clock {
    /// Reads an ISO 8601 time from the wire.
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return try? Date(text, strategy: .iso8601)
    }

    /// `HH:MM:SS` in the local time zone.
    static func time(_ date: Date) -> String {
        date.formatted(
            .verbatim(
                "\(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits)",
                timeZone: .current, calendar: Calendar(identifier: .gregorian)
            )
        )
    }

    /// `2026-11-24 09:30:05` in the local time zone.
    static func dateTime(_ date: Date) -> String {
        date.formatted(
            .verbatim(
                "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits)", timeZone: .current,
                calendar: Calendar(identifier: .gregorian)
            )
        ) + " " + time(date)
    }

    /// How long ago `date` was, briefly: `now`, `12s ago`, `3m ago`, `2h ago`, `4d ago`.
    static func ago(_ date: Date, now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<2: return "now"
        case ..<60: return "\(seconds)s ago"
        case ..<3_600: return "\(seconds / 60)m ago"
        case ..<86_400: return "\(seconds / 3_600)h ago"
        default: return "\(seconds / 86_400)d ago"
        }
    }
}
