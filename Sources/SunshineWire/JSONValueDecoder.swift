import SunshineModel

/// Decodes a `Decodable` from a ``JSONValue`` the strict parser already built, so that a frame is
/// parsed once: no second pass through Foundation's `JSONDecoder`, and a `JSONValue` member (a
/// record on the wire) is taken as it is rather than rebuilt by trial decoding.
///
/// It follows `JSONDecoder`'s rules where Sunshine's wire types can tell the difference: a missing
/// member is `keyNotFound`, a `null` one `valueNotFound` (or nil for an optional), an integer must be
/// a whole number in range, unknown members are ignored, and errors carry the same coding paths.
public enum JSONValueDecoder {
    /// Decodes `type` from `value`; `codingPath` names where `value` sits in its message (for errors).
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, codingPath: [any CodingKey] = [])
        throws -> T
    {
        try ValueDecoder(value, codingPath).unbox(type)
    }
}

/// A member name or array index in a coding path.
struct WireKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = "Index \(intValue)"
        self.intValue = intValue
    }

    init(_ name: String) { self.init(stringValue: name) }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, _ codingPath: [any CodingKey]) {
        self.value = value
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: JSONValue].self) }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSONValue].self) }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleContainer(decoder: self)
    }

    func mismatch(_ type: Any.Type) -> DecodingError {
        DecodingError.typeMismatch(
            type,
            .init(
                codingPath: codingPath,
                debugDescription: "Expected to decode \(type) but found \(value.kindName) instead.")
        )
    }

    func null(_ type: Any.Type) -> DecodingError {
        DecodingError.valueNotFound(
            type, .init(codingPath: codingPath, debugDescription: "Expected \(type) value but found null instead.")
        )
    }

    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        switch type {
        case is String.Type: return try unboxString() as! T
        case is Bool.Type: return try unboxBool() as! T
        case is Int.Type: return try unboxInteger(Int.self) as! T
        case is Int64.Type: return try unboxInteger(Int64.self) as! T
        case is Int32.Type: return try unboxInteger(Int32.self) as! T
        case is UInt64.Type: return try unboxInteger(UInt64.self) as! T
        case is UInt32.Type: return try unboxInteger(UInt32.self) as! T
        case is Double.Type: return try unboxDouble() as! T
        default: return try T(from: self)
        }
    }

    func unboxString() throws -> String {
        if case .string(let string) = value { return string }
        throw value == .null ? null(String.self) : mismatch(String.self)
    }

    func unboxBool() throws -> Bool {
        if case .bool(let bool) = value { return bool }
        throw value == .null ? null(Bool.self) : mismatch(Bool.self)
    }

    func unboxDouble() throws -> Double {
        switch value {
        case .double(let double): return double
        case .int(let int): return Double(int)
        case .null: throw null(Double.self)
        default: throw mismatch(Double.self)
        }
    }

    func unboxInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        switch value {
        case .int(let int):
            if let exact = I(exactly: int) { return exact }
        case .double(let double):
            if let exact = I(exactly: double) { return exact }
        case .null:
            throw null(type)
        default:
            throw mismatch(type)
        }
        throw DecodingError.dataCorrupted(
            .init(codingPath: codingPath, debugDescription: "Parsed JSON number <\(value)> does not fit in \(type).")
        )
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func decoder(for key: Key) throws -> ValueDecoder {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue).")
            )
        }
        return ValueDecoder(value, codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try decoder(for: key).value == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder(for: key).unbox(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue], value != .null else { return nil }
        return try ValueDecoder(value, codingPath + [key]).unbox(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(members["super"] ?? .null, codingPath + [WireKey("super")])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(members[key.stringValue] ?? .null, codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next(_ type: Any.Type) throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(
                    codingPath: codingPath + [WireKey(intValue: currentIndex)],
                    debugDescription: "Unkeyed container is at end.")
            )
        }
        defer { currentIndex += 1 }
        return ValueDecoder(elements[currentIndex], codingPath + [WireKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return try next(JSONValue.self).value == .null }
        if elements[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type).unbox(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<
        NestedKey
    > {
        try next([String: JSONValue].self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([JSONValue].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next(JSONValue.self)
    }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.unbox(type)
    }
}

extension JSONValue {
    /// What kind of JSON value this is, for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
