#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif

/// The size of a terminal window in character cells.
public struct TerminalSize: Sendable, Hashable {
    /// Cells across.
    public var columns: Int
    /// Lines down.
    public var rows: Int

    /// A size of `columns` by `rows`.
    public init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
    }
}

/// One complete picture of the dashboard as lines of styled text, rendered either as a full-screen
/// redraw (a live view) or as plain lines (`--once`, or output that is not a terminal).
public struct Frame: Sendable, Hashable {
    /// The lines, top to bottom, without line breaks.
    public var lines: [StyledText]

    /// A frame of `lines`.
    public init(_ lines: [StyledText] = []) {
        self.lines = lines
    }

    /// The bytes that redraw the whole screen in place, without first clearing it (which would
    /// flicker): cursor home, each line cut to the screen's width and cleared to its end, and the
    /// screen below the last line cleared; lines beyond the screen's height are left out.
    ///
    /// A line that fills the width is not followed by "erase to end of line", nor a frame that fills
    /// the height by "erase below": with the cursor parked past the last column, terminals would
    /// erase the last character drawn. Lines are joined by CR LF, so raw mode need not translate.
    public func screen(size: TerminalSize, color: Bool) -> String {
        let shown = lines.prefix(max(0, size.rows)).map { line -> String in
            let cut = line.truncated(toWidth: max(0, size.columns))
            return cut.rendered(color: color) + (cut.displayWidth < size.columns ? "\u{1B}[K" : "")
        }
        let below = shown.count < size.rows ? (shown.isEmpty ? "" : "\r\n") + "\u{1B}[J" : ""
        return "\u{1B}[H" + shown.joined(separator: "\r\n") + below
    }

    /// The frame as ordinary lines, each ending in a newline: cut to `width` columns when one is
    /// given, and with SGR codes only when `color` is set, so that without colour it holds no escape
    /// code at all.
    public func text(width: Int? = nil, color: Bool = false) -> String {
        lines.map { line in
            (width.map { line.truncated(toWidth: $0) } ?? line).rendered(color: color) + "\n"
        }.joined()
    }
}

extension TerminalSize {
    /// The size of the terminal `descriptor` (standard output by default) is on, or nil when it is
    /// not a terminal or does not say: one-shot commands then print their tables at natural width.
    public static func of(descriptor: Int32 = STDOUT_FILENO) -> TerminalSize? {
        var window = winsize()
        guard isatty(descriptor) == 1, ioctl(descriptor, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 else {
            return nil
        }
        return TerminalSize(columns: Int(window.ws_col), rows: Int(window.ws_row))
    }
}
