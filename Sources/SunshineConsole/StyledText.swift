// Styles are a handful of SGR numbers, written here. Rainbow 4.2.2 styles strings by re-parsing the
// escape codes inside them and decides colour from process-wide mutable statics (`Rainbow.enabled`),
// treating NO_COLOR=0 as unset, unlike no-color.org; console-kit 4.16.2 (which brings swift-nio and
// swift-log into a leaf module) has colours and bold but no dim or inverse, and prints through its
// own `Console` to standard output only.

/// How a run of text looks on a terminal that shows colour: an optional foreground colour and the
/// attributes a status table needs to draw the eye (bold), step back (dim) or mark a row (inverse).
public struct TextStyle: Sendable, Hashable {
    /// The foreground colours the dashboard uses, by their ANSI SGR numbers.
    public enum Color: Int, Sendable, Hashable {
        case red = 31
        case green = 32
        case yellow = 33
        case cyan = 36
    }

    /// The foreground colour, or the terminal's default.
    public var color: Color?
    /// Heavier text, for headers and what needs attention.
    public var isBold: Bool
    /// Fainter text, for what matters less (idle townships, old events).
    public var isDim: Bool
    /// Swapped foreground and background, for a selected or highlighted row.
    public var isInverse: Bool

    /// A style from its parts; the default is plain text.
    public init(color: Color? = nil, bold: Bool = false, dim: Bool = false, inverse: Bool = false) {
        self.color = color
        self.isBold = bold
        self.isDim = dim
        self.isInverse = inverse
    }

    /// The terminal's default look.
    public static let plain = TextStyle()
    /// Bold text.
    public static let bold = TextStyle(bold: true)
    /// Dim text.
    public static let dim = TextStyle(dim: true)
    /// Inverse video.
    public static let inverse = TextStyle(inverse: true)
    /// Red text, for what is wrong (offline, rejected, critical).
    public static let red = TextStyle(color: .red)
    /// Green text, for what is well (online, in sync).
    public static let green = TextStyle(color: .green)
    /// Yellow text, for what is lagging or needs a look.
    public static let yellow = TextStyle(color: .yellow)
    /// Cyan text, for neutral information.
    public static let cyan = TextStyle(color: .cyan)

    /// The SGR sequence that starts this style from a reset state, or "" for plain text.
    var escapeSequence: String {
        var parameters: [String] = []
        if isBold { parameters.append("1") }
        if isDim { parameters.append("2") }
        if isInverse { parameters.append("7") }
        if let color { parameters.append(String(color.rawValue)) }
        return parameters.isEmpty ? "" : "\u{1B}[" + parameters.joined(separator: ";") + "m"
    }
}

/// One run of text in one style.
public struct Span: Sendable, Hashable {
    /// The text, with control characters replaced by U+FFFD so that data (a township's name, an
    /// event message) can never move the cursor or restyle the screen.
    public let text: String
    /// How the text looks when colour is on.
    public let style: TextStyle

    /// A span of `text` in `style`; control characters in `text` are replaced (see `text`).
    public init(_ text: String, style: TextStyle = .plain) {
        self.text = terminalSafe(text)
        self.style = style
    }
}

/// `text` with its control characters (C0, DEL and C1) replaced by U+FFFD, so that data shown on
/// a terminal — a township's name, a field of a clerk's sheet — can never move the cursor or
/// restyle the screen.
public func terminalSafe(_ text: some StringProtocol) -> String {
    let isControl: (Unicode.Scalar) -> Bool = { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }
    guard text.unicodeScalars.contains(where: isControl) else { return String(text) }
    var clean = String.UnicodeScalarView()
    for scalar in text.unicodeScalars { clean.append(isControl(scalar) ? "\u{FFFD}" : scalar) }
    return String(clean)
}

/// A line of text made of styled spans, measured and cut in terminal columns, and rendered either
/// with ANSI SGR codes or as plain text, so that one frame serves a colour terminal, `NO_COLOR` and
/// a pipe alike.
public struct StyledText: Sendable, Hashable, ExpressibleByStringInterpolation {
    /// The spans, in order.
    public private(set) var spans: [Span]

    /// Text made of `spans`.
    public init(_ spans: [Span] = []) {
        self.spans = spans.filter { !$0.text.isEmpty }
    }

    /// `text` in one style.
    public init(_ text: String, style: TextStyle = .plain) {
        self.init([Span(text, style: style)])
    }

    /// Plain text from a literal, interpolations included.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The two texts one after the other.
    public static func + (lhs: StyledText, rhs: StyledText) -> StyledText {
        StyledText(lhs.spans + rhs.spans)
    }

    /// Appends `other` to this text.
    public static func += (lhs: inout StyledText, rhs: StyledText) {
        lhs = lhs + rhs
    }

    /// The text without styles.
    public var plainText: String {
        spans.map(\.text).joined()
    }

    /// The terminal columns the text occupies (see `StringProtocol.displayWidth`).
    public var displayWidth: Int {
        spans.reduce(0) { $0 + $1.text.displayWidth }
    }

    /// The text cut to at most `width` columns, ending in an ellipsis in the style of the span it
    /// cuts (see `StringProtocol.truncated(toWidth:ellipsis:)`).
    public func truncated(toWidth width: Int, ellipsis: String = "…") -> StyledText {
        guard displayWidth > width else { return self }
        let ellipsisWidth = ellipsis.displayWidth
        let room = width >= ellipsisWidth ? width - ellipsisWidth : width
        var kept: [Span] = []
        var used = 0
        for span in spans {
            let (text, taken) = span.text.prefix(fittingWidth: room - used)
            used += taken
            if text.count < span.text.count {
                let tail = width >= ellipsisWidth ? ellipsis : ""
                kept.append(Span(text + tail, style: span.style))
                break
            }
            kept.append(span)
        }
        return StyledText(kept)
    }

    /// The text filled with spaces to `width` columns, placed by `alignment`; wider text is unchanged.
    public func padded(toWidth width: Int, alignment: Alignment = .left) -> StyledText {
        let gap = StyledText(String(repeating: " ", count: max(0, width - displayWidth)))
        return alignment == .left ? self + gap : gap + self
    }

    /// The text cut and then padded to exactly `width` columns (a space stands in for a wide
    /// character that would straddle the edge): what a table cell needs.
    public func fitted(toWidth width: Int, alignment: Alignment = .left) -> StyledText {
        truncated(toWidth: width).padded(toWidth: width, alignment: alignment)
    }

    /// The text for a terminal: with `color`, each styled span between its SGR sequence and a reset;
    /// without, the plain text and no escape code at all.
    public func rendered(color: Bool) -> String {
        guard color else { return plainText }
        var output = ""
        for span in spans {
            let start = span.style.escapeSequence
            output += start.isEmpty ? span.text : start + span.text + "\u{1B}[0m"
        }
        return output
    }
}
