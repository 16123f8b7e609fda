/// Why ``JSONParser`` refused a document, and where: one sentence for a log or an error response.
///
/// The offset counts bytes from the start of the document (0-based), so a refused frame can be
/// located exactly; a reason carries at most a short excerpt of the input, never the whole of it.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong at ``offset``.
    public enum Reason: Sendable, Equatable {
        /// The input ended inside a value, or held no value at all.
        case unexpectedEnd
        /// A byte the grammar does not allow here; `expected` says what would have been.
        case unexpected(UInt8, expected: String)
        /// A byte sequence inside a string that is not well-formed UTF-8 (RFC 3629).
        case invalidUTF8
        /// A byte U+0000–U+001F written raw inside a string, where RFC 8259 requires an escape.
        case unescapedControlCharacter(UInt8)
        /// A backslash followed by something other than `" \ / b f n r t u`.
        case invalidEscape(UInt8)
        /// `\u` not followed by four hexadecimal digits.
        case invalidUnicodeEscape
        /// A `\u` escape of a UTF-16 surrogate that is not half of a high-low pair.
        case loneSurrogate(UInt16)
        /// A number with a superfluous leading zero, such as `01` or `-00`.
        case leadingZero
        /// A number too large in magnitude for a finite Double, such as `1e400`.
        case numberOutOfRange
        /// A second member of one object with the same name (compared after unescaping).
        case duplicateMember(String)
        /// An array or object nested deeper than ``JSONParser/Limits/maxDepth``.
        case tooDeep(limit: Int)
        /// A string whose unescaped UTF-8 is longer than ``JSONParser/Limits/maxStringBytes``.
        case stringTooLong(limit: Int)
        /// An array or object with more entries than ``JSONParser/Limits/maxEntries``.
        case tooManyEntries(limit: Int)
    }

    /// What was wrong.
    public let reason: Reason
    /// The 0-based byte offset in the document where it was found.
    public let offset: Int

    /// Makes the error for `reason` found at byte `offset`.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// One sentence naming the problem and its byte offset, e.g. `duplicate member "key" at byte 41`.
    public var description: String {
        "\(what) at byte \(offset)"
    }

    private var what: String {
        switch reason {
        case .unexpectedEnd: "unexpected end of input"
        case .unexpected(let byte, let expected): "expected \(expected) but found \(Self.show(byte))"
        case .invalidUTF8: "invalid UTF-8"
        case .unescapedControlCharacter(let byte): "unescaped control character \(Self.hex(byte, "U+", 4)) in a string"
        case .invalidEscape(let byte): "a backslash followed by \(Self.show(byte)) is not an escape"
        case .invalidUnicodeEscape: "\\u must be followed by four hexadecimal digits"
        case .loneSurrogate(let unit): "lone surrogate \(Self.hex(unit, "\\u", 4)) in a string"
        case .leadingZero: "leading zero in a number"
        case .numberOutOfRange: "number too large for a finite double"
        case .duplicateMember(let name): "duplicate member \(Self.quote(name))"
        case .tooDeep(let limit): "nesting deeper than \(limit) levels"
        case .stringTooLong(let limit): "string longer than \(limit) bytes"
        case .tooManyEntries(let limit): "array or object with more than \(limit) entries"
        }
    }

    /// A printable ASCII byte as `"x"` (a quote as `'"'`), any other as `byte 0xC3`.
    private static func show(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): "'\"'"
        case 0x21...0x7E: "\"\(Character(Unicode.Scalar(byte)))\""
        default: "byte \(hex(byte, "0x", 2))"
        }
    }

    private static func hex(_ value: some BinaryInteger, _ prefix: String, _ width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// A member name as JSON, cut to 64 characters so a hostile name cannot flood a log line.
    private static func quote(_ name: String) -> String {
        let limit = 64
        guard name.count > limit else { return CanonicalJSON.string(.string(name)) }
        return CanonicalJSON.string(.string(String(name.prefix(limit)))) + "…"
    }
}
