import SunshineModel

/// Encodes an `Encodable` into a ``JSONValue``, which ``CanonicalJSON`` then writes as the frame's
/// bytes: one pass, with a `JSONValue` member (a record on the wire) taken as it is, instead of
/// Foundation's `JSONEncoder` walking it through `Codable` again.
///
/// Optional members that are nil are left out (as synthesized `Codable` asks), an explicit
/// `encodeNil` writes `null`, and keys are written sorted (RFC 8785), as `JSONEncoder` with
/// `.sortedKeys` did.
public enum JSONValueEncoder {
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let node = EncodingNode()
        try node.encode(value, codingPath: [])
        return node.value
    }
}

/// One value under construction; containers write into their node, nested ones into child nodes.
private final class EncodingNode {
    enum Content {
        case empty
        case value(JSONValue)
        case object([String: EncodingNode])
        case array([EncodingNode])
    }

    var content = Content.empty

    var value: JSONValue {
        switch content {
        case .empty: return .object([:])
        case .value(let value): return value
        case .object(let members): return .object(members.mapValues(\.value))
        case .array(let elements): return .array(elements.map(\.value))
        }
    }

    func encode<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: content = .value(json)
        case let string as String: content = .value(.string(string))
        case let bool as Bool: content = .value(.bool(bool))
        case let int as Int: content = .value(.int(Int64(int)))
        case let int as Int64: content = .value(.int(int))
        case let int as Int32: content = .value(.int(Int64(int)))
        case let int as UInt32: content = .value(.int(Int64(int)))
        case let int as UInt64:
            guard let exact = Int64(exactly: int) else {
                throw EncodingError.invalidValue(
                    int, .init(codingPath: codingPath, debugDescription: "\(int) is out of range."))
            }
            content = .value(.int(exact))
        case let double as Double:
            guard double.isFinite else {
                throw EncodingError.invalidValue(
                    double, .init(codingPath: codingPath, debugDescription: "\(double) is not a JSON number."))
            }
            content = .value(.double(double))
        default:
            try value.encode(to: ValueEncoder(node: self, codingPath: codingPath))
        }
    }

    func member(_ key: String) -> EncodingNode {
        var members: [String: EncodingNode] = [:]
        if case .object(let existing) = content {
            members = existing
            content = .empty  // so that `members` is the only reference, and grows in place
        }
        let child = members[key] ?? EncodingNode()
        members[key] = child
        content = .object(members)
        return child
    }

    func append() -> EncodingNode {
        var elements: [EncodingNode] = []
        if case .array(let existing) = content {
            elements = existing
            content = .empty
        }
        let child = EncodingNode()
        elements.append(child)
        content = .array(elements)
        return child
    }
}

private struct ValueEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([:]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        node.member(key.stringValue).content = .value(.null)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.member(key.stringValue).encode(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        ValueEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(node: node.member("super"), codingPath: codingPath + [WireKey("super")])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int {
        if case .array(let elements) = node.content { return elements.count }
        return 0
    }

    mutating func encodeNil() throws {
        node.append().content = .value(.null)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        try node.append().encode(value, codingPath: codingPath + [WireKey(intValue: index)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
        NestedKey
    > {
        let index = count
        return ValueEncoder(node: node.append(), codingPath: codingPath + [WireKey(intValue: index)]).container(
            keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let index = count
        return ValueEncoder(node: node.append(), codingPath: codingPath + [WireKey(intValue: index)]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let index = count
        return ValueEncoder(node: node.append(), codingPath: codingPath + [WireKey(intValue: index)])
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws {
        node.content = .value(.null)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try node.encode(value, codingPath: codingPath)
    }
}
