/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``, for frames off the wire and for stored records.
///
/// Strict, because every node must read a record the same way: exactly one value with optional
/// whitespace around it; no comments, trailing commas, `NaN` or leading zeros; every string
/// well-formed UTF-8 with its control characters escaped and no lone surrogate in a `\u` escape;
/// and no object naming one member twice (parsers that keep the first or the last of two
/// duplicates would disagree about what the record says). Names are compared after unescaping, as
/// Swift strings; a duplicate is reported when the object holding it closes, so a syntax error
/// later in that object is reported first.
///
/// Numbers: a literal with neither fraction nor exponent that fits `Int64` is ``JSONValue/int(_:)``;
/// any other number is ``JSONValue/double(_:)``, and one beyond the finite doubles is refused. `-0`
/// is an integer literal, so it is `.int(0)` — the same value CanonicalJSON writes it back as — while
/// `-0.0` keeps its sign as `.double(-0.0)`.
///
/// It is one pass over a contiguous buffer with no backtracking; strings without escapes are made
/// straight from the input bytes, and every bound a peer could stretch is a ``Limits`` value.
public enum JSONParser {
    /// Bounds on what a document may make the parser do, so a hostile peer can neither recurse it
    /// into a stack overflow nor make one string or container take more than its share.
    ///
    /// The total is bounded by the frame (DESIGN §3.1, §3.9): the values parsed from a document take
    /// memory in proportion to it, about 5 bytes per byte of ballot records and at worst about 27
    /// (a frame of `[{"":0},…]`, one dictionary per 7 bytes), as measured on Linux.
    public struct Limits: Sendable, Equatable {
        /// How many arrays and objects may enclose one another. Default 64: a `push` frame nests six
        /// (message, params, records, record, data, choices). The parser recurses for each level, so
        /// this also bounds the stack it uses, whatever the input.
        public var maxDepth: Int
        /// The most UTF-8 bytes one string may hold once unescaped. Default 1 MiB, the default frame
        /// size: no record field comes near it (keys and titles are tens of bytes, a finding's details
        /// a few kilobytes), and a longer string is refused before it is made into a `String`.
        public var maxStringBytes: Int
        /// The most elements one array, or members one object, may hold. Default 1 Mi (1,048,576):
        /// a 16 MiB frame of 350-byte records holds about 48,000 of them, and the bound caps the
        /// largest single allocation (one array's storage, one object's table) below the frame's own.
        public var maxEntries: Int

        /// Limits with the defaults above, any of which can be given instead.
        public init(maxDepth: Int = 64, maxStringBytes: Int = 1 << 20, maxEntries: Int = 1 << 20) {
            self.maxDepth = maxDepth
            self.maxStringBytes = maxStringBytes
            self.maxEntries = maxEntries
        }
    }

    /// Parses one JSON document from UTF-8 bytes (`[UInt8]`, `Data`, a buffer pointer, a NIO view…).
    ///
    /// Contiguous collections are read in place; any other is copied into an array first.
    public static func parse<Bytes: Collection>(
        _ bytes: Bytes, limits: Limits = .init()
    ) throws(JSONParseError) -> JSONValue where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0, limits: limits) }) {
            return try result.get()
        }
        return try Array(bytes).withUnsafeBufferPointer { parse(buffer: $0, limits: limits) }.get()
    }

    /// Parses one JSON document from a string's UTF-8, as written in tests and configuration.
    public static func parse(_ text: String, limits: Limits = .init()) throws(JSONParseError) -> JSONValue {
        var text = text
        return try text.withUTF8 { parse(buffer: $0, limits: limits) }.get()
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, limits: Limits) -> Result<JSONValue, JSONParseError> {
        var reader = Reader(bytes: buffer, limits: limits)
        do {
            return .success(try reader.document())
        } catch {
            return .failure(error)
        }
    }
}

/// The parser's position in one document: a recursive descent, one method per production of RFC 8259.
///
/// Every read of `bytes` is preceded by a check of `index` against its count, so no input can make
/// it read out of bounds; integers are accumulated with overflow reported, never trapped.
private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONParser.Limits
    var index = 0
    /// Reused for strings with escapes, so only their final `String` is allocated.
    var scratch: [UInt8] = []
    /// The elements of the arrays being read, innermost last. Each array takes its own off the end
    /// when it closes, into storage of exactly the right size, instead of growing an array of its own.
    var pendingElements: [JSONValue] = []
    /// The same for objects' members: a dictionary made with the right capacity hashes each name once,
    /// where one grown member by member would hash most of them again at every resize.
    var pendingMembers: [Member] = []

    /// One member of an object being read, with where its name starts for a duplicate's error.
    struct Member {
        let name: String
        let offset: Int
        let value: JSONValue
    }

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONParser.Limits) {
        self.bytes = bytes
        self.limits = limits
        // Room for a record's members and elements, so the stacks are allocated once per document.
        pendingElements.reserveCapacity(16)
        pendingMembers.reserveCapacity(16)
    }

    mutating func document() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try value(depth: 0)
        skipWhitespace()
        if index < bytes.count {
            throw JSONParseError(.unexpected(bytes[index], expected: "the end of the document"), at: index)
        }
        return value
    }

    /// A value inside `depth` enclosing arrays and objects.
    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw endOfInput }
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case let byte: throw JSONParseError(.unexpected(byte, expected: "a value"), at: index)
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw JSONParseError(.tooDeep(limit: limits.maxDepth), at: index) }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array([])
        }
        let base = pendingElements.count
        while true {
            guard pendingElements.count - base < limits.maxEntries else {
                throw JSONParseError(.tooManyEntries(limit: limits.maxEntries), at: index)
            }
            let element = try value(depth: depth)
            pendingElements.append(element)
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                let elements = Array(pendingElements[base...])
                pendingElements.removeSubrange(base...)
                return .array(elements)
            case let byte: throw JSONParseError(.unexpected(byte, expected: "\",\" or \"]\""), at: index)
            }
        }
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw JSONParseError(.tooDeep(limit: limits.maxDepth), at: index) }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        let base = pendingMembers.count
        while true {
            guard index < bytes.count else { throw endOfInput }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw JSONParseError(.unexpected(bytes[index], expected: "a member name"), at: index)
            }
            guard pendingMembers.count - base < limits.maxEntries else {
                throw JSONParseError(.tooManyEntries(limit: limits.maxEntries), at: index)
            }
            let nameOffset = index
            let name = try string()
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            guard bytes[index] == UInt8(ascii: ":") else {
                throw JSONParseError(.unexpected(bytes[index], expected: "\":\""), at: index)
            }
            index += 1
            skipWhitespace()
            let value = try value(depth: depth)
            pendingMembers.append(Member(name: name, offset: nameOffset, value: value))
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                return .object(try members(from: base))
            case let byte: throw JSONParseError(.unexpected(byte, expected: "\",\" or \"}\""), at: index)
            }
        }
    }

    /// The members pending from `base` on, as the dictionary of a closed object, refusing a name that
    /// is already in it. Names are compared as Swift strings, that is up to canonical equivalence: two
    /// that differ only in Unicode normalisation would be one key of the dictionary, so they are too.
    mutating func members(from base: Int) throws(JSONParseError) -> [String: JSONValue] {
        var duplicated = false
        // This initialiser is inlinable, so it is specialised and sized once from the exact count;
        // `reserveCapacity` and `init(minimumCapacity:)` are not, and look up type metadata on every call.
        let members = Dictionary(pendingMembers[base...].lazy.map { ($0.name, $0.value) }) { first, _ in
            duplicated = true
            return first
        }
        if duplicated { throw firstDuplicate(from: base) }
        pendingMembers.removeSubrange(base...)
        return members
    }

    /// The error for the first member from `base` on whose name an earlier member already has. The
    /// dictionary found one, and a set compares names as it does; its first member stands in otherwise.
    func firstDuplicate(from base: Int) -> JSONParseError {
        var names = Set<String>()
        let members = pendingMembers[base...]
        let repeated = members.first { !names.insert($0.name).inserted } ?? members[base]
        return JSONParseError(.duplicateMember(repeated.name), at: repeated.offset)
    }

    /// A string starting at its opening quote. The common case, no escapes, becomes a `String` straight
    /// from the input; the first backslash hands over to ``escapedString(open:start:)``.
    mutating func string() throws(JSONParseError) -> String {
        let open = index
        index += 1
        let start = index
        while true {
            skipPlainASCII()
            guard index < bytes.count else { throw endOfInput }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                let end = index
                guard end - start <= limits.maxStringBytes else {
                    throw JSONParseError(.stringTooLong(limit: limits.maxStringBytes), at: open)
                }
                index += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            case UInt8(ascii: "\\"):
                return try escapedString(open: open, start: start)
            case 0..<0x20:
                throw JSONParseError(.unescapedControlCharacter(bytes[index]), at: index)
            case 0x80...:
                index = try endOfUTF8Sequence(at: index)
            default:
                index += 1
            }
        }
    }

    /// Skips the bytes of a string that stand for themselves, eight at a time, up to the first quote,
    /// backslash, control character or non-ASCII byte, or to the last few bytes of the document.
    mutating func skipPlainASCII() {
        let raw = UnsafeRawBufferPointer(bytes)
        while raw.count - index >= 8 {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            // The classic "has a zero byte" test, (v - 0x01…) & ~v & 0x80…, on the word XOR-ed with
            // quotes and with backslashes; its "has a byte below 0x20" form; and each byte's high bit.
            // A borrow can only mark a byte above a true match, so the lowest marked byte is the first.
            let ones: UInt64 = 0x0101_0101_0101_0101
            let quotes = word ^ 0x2222_2222_2222_2222
            let backslashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
            let special =
                ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes
                    | (word &- 0x2020_2020_2020_2020) & ~word | word) & 0x8080_8080_8080_8080
            guard special == 0 else {
                index += special.trailingZeroBitCount / 8
                return
            }
            index += 8
        }
    }

    /// The rest of a string from its first backslash, unescaped into `scratch`.
    mutating func escapedString(open: Int, start: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard scratch.count <= limits.maxStringBytes else {
                    throw JSONParseError(.stringTooLong(limit: limits.maxStringBytes), at: open)
                }
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try escape()
            case 0..<0x20:
                throw JSONParseError(.unescapedControlCharacter(byte), at: index)
            case 0x80...:
                let end = try endOfUTF8Sequence(at: index)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                index = end
            default:
                scratch.append(byte)
                index += 1
            }
        }
        throw endOfInput
    }

    /// One escape starting at its backslash, appended to `scratch` as UTF-8.
    mutating func escape() throws(JSONParseError) {
        let backslash = index
        index += 1
        guard index < bytes.count else { throw endOfInput }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(letter)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hexQuad(escape: backslash)
            switch unit {
            case 0xD800...0xDBFF:
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else { throw JSONParseError(.loneSurrogate(unit), at: backslash) }
                index += 2
                let low = try hexQuad(escape: index - 2)
                guard (0xDC00...0xDFFF).contains(low) else { throw JSONParseError(.loneSurrogate(unit), at: backslash) }
                appendUTF8(0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00))
            case 0xDC00...0xDFFF:
                throw JSONParseError(.loneSurrogate(unit), at: backslash)
            default:
                appendUTF8(UInt32(unit))
            }
        default:
            throw JSONParseError(.invalidEscape(letter), at: backslash)
        }
    }

    /// The four hex digits after `\u`; `escape` is the offset of the backslash, for the error.
    mutating func hexQuad(escape: Int) throws(JSONParseError) -> UInt16 {
        var unit: UInt16 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw endOfInput }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONParseError(.invalidUnicodeEscape, at: escape)
            }
            unit = unit << 4 | UInt16(digit)
            index += 1
        }
        return unit
    }

    /// Appends a Unicode scalar value (never a surrogate: the caller has paired those) as UTF-8.
    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        }
    }

    /// The end of the multi-byte UTF-8 sequence whose lead byte is at `start`, checked against the
    /// well-formed sequences of Unicode's table 3-7 (no overlong forms, surrogates or values past U+10FFFF).
    func endOfUTF8Sequence(at start: Int) throws(JSONParseError) -> Int {
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch bytes[start] {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            second = 0x80...0x9F
        case 0xF0:
            length = 4
            second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            second = 0x80...0x8F
        default: throw JSONParseError(.invalidUTF8, at: start)
        }
        guard bytes.count - start >= length, second.contains(bytes[start + 1]) else {
            throw JSONParseError(.invalidUTF8, at: start)
        }
        for continuation in start + 2..<start + length where bytes[continuation] & 0xC0 != 0x80 {
            throw JSONParseError(.invalidUTF8, at: start)
        }
        return start + length
    }

    /// A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.count else { throw endOfInput }
        var magnitude: UInt64 = 0
        var overflow = false
        switch bytes[index] {
        case UInt8(ascii: "0"):
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw JSONParseError(.leadingZero, at: start) }
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            while index < bytes.count, isDigit(bytes[index]) {
                let (times10, carry) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, carried) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                magnitude = sum
                overflow = overflow || carry || carried
                index += 1
            }
        case let byte: throw JSONParseError(.unexpected(byte, expected: "a digit"), at: index)
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            try digits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try digits()
        }
        if integral && !overflow {
            if !negative && magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
            if negative && magnitude <= Int64.min.magnitude { return .int(Int64(truncatingIfNeeded: 0 &- magnitude)) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else {
            throw JSONParseError(.numberOutOfRange, at: start)
        }
        return .double(number)
    }

    /// One or more digits, as after a decimal point or an exponent.
    mutating func digits() throws(JSONParseError) {
        guard index < bytes.count else { throw endOfInput }
        guard isDigit(bytes[index]) else {
            throw JSONParseError(.unexpected(bytes[index], expected: "a digit"), at: index)
        }
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        for expected in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard index < bytes.count else { throw endOfInput }
            guard bytes[index] == expected else {
                throw JSONParseError(.unexpected(bytes[index], expected: "\"\(word)\""), at: index)
            }
            index += 1
        }
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    var endOfInput: JSONParseError {
        JSONParseError(.unexpectedEnd, at: index)
    }
}
