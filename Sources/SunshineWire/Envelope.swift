import Foundation
import NIOCore
import NIOFoundationCompat
import SunshineModel

/// A JSON-RPC request id. DESIGN §3.2 allows integers only, unique per sender per connection.
public typealias RPCID = Int64

/// One inbound message, parsed once: its JSON value, kept so that `params` or `result` can be
/// decoded into the type the method expects once the method is known — from the value the strict
/// parser built, never by parsing the text again.
public struct MessagePayload: Sendable {
    /// The message object as parsed.
    public let value: JSONValue

    public init(value: JSONValue) {
        self.value = value
    }

    /// A payload from JSON text (tests, tools); text that does not parse reads as `null`.
    public init(json: Data) {
        self.value = (try? JSONParser.parse(json)) ?? .null
    }

    /// The message's JSON text (re-encoded from the parsed value).
    public var json: Data { Data(CanonicalJSON.string(value).utf8) }

    /// Decodes `params`; a missing or null `params` is decoded as `{}`.
    public func params<P: Decodable>(as type: P.Type = P.self) throws(RPCError) -> P {
        do {
            let params = value["params"].flatMap { $0 == .null ? nil : $0 } ?? .object([:])
            return try JSONValueDecoder.decode(P.self, from: params, codingPath: [WireKey("params")])
        } catch {
            throw RPCError.invalidParams("The params do not match the method's schema: \(WireCoding.describe(error)).")
        }
    }

    /// Decodes `result`.
    public func result<R: Decodable>(as type: R.Type = R.self) throws(RPCError) -> R {
        do {
            guard let result = value["result"] else {
                throw DecodingError.keyNotFound(WireKey("result"), .init(codingPath: [], debugDescription: "No result."))
            }
            return try JSONValueDecoder.decode(R.self, from: result, codingPath: [WireKey("result")])
        } catch {
            throw RPCError.invalidParams("The peer's result does not match the method's schema: \(WireCoding.describe(error)).")
        }
    }
}

/// One inbound JSON-RPC 2.0 message, classified (DESIGN §3.2).
public enum InboundMessage: Sendable {
    case request(id: RPCID, method: String, payload: MessagePayload)
    case notification(method: String, payload: MessagePayload)
    case response(id: RPCID, payload: MessagePayload)
    /// An error response. `id` is nil for errors about a frame the peer could not read; such an
    /// error means the peer is closing the connection.
    case errorResponse(id: RPCID?, error: RPCError)
}

/// Why a frame is not an acceptable JSON-RPC message: the error to answer with, and the request id
/// to answer to where it could be read.
public struct EnvelopeError: Error, Sendable, Equatable {
    public var id: RPCID?
    public var error: RPCError

    public init(id: RPCID?, error: RPCError) {
        self.id = id
        self.error = error
    }
}

extension InboundMessage {
    /// Classifies a frame payload: UTF-8, JSON, an object, then a JSON-RPC 2.0 request,
    /// notification or response, in that order, each failure with its own error of §3.1.
    public static func parse(_ frame: ByteBuffer) throws(EnvelopeError) -> InboundMessage {
        let bytes = frame.readableBytesView
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw EnvelopeError(id: nil, error: .parseError("The frame is not valid UTF-8; send JSON text encoded as UTF-8."))
        }
        // The strict parser is the gate: a member named twice would mean one thing to one reader
        // and another to the next, so such a frame is refused, as is anything RFC 8259 refuses.
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser.parse(bytes)
        } catch {
            throw EnvelopeError(id: nil, error: .parseError("The frame is not valid JSON (\(error)); send one JSON-RPC 2.0 object per frame."))
        }
        guard case .object(let members) = value else {
            throw EnvelopeError(
                id: nil, error: .invalidRequest("The frame is JSON but not an object; send one JSON-RPC 2.0 message object per frame.")
            )
        }
        return try Head(members).classify(payload: MessagePayload(value: value))
    }

    /// The members that decide what a message is. Everything else stays in the payload.
    private struct Head {
        enum ID { case absent, null, integer(RPCID), other }
        enum Member { case absent, present, wrongType }

        var jsonrpc: String?
        var id: ID
        var method: Member
        var methodName: String?
        var params: Member
        var hasResult: Bool
        var error: RPCError?
        var errorIsMalformed: Bool

        /// Reads the members from the parsed object, with the rules `JSONDecoder` applied before:
        /// an id is an integer when it is a whole number in range.
        init(_ members: [String: JSONValue]) {
            jsonrpc = members["jsonrpc"]?.stringValue
            switch members["id"] {
            case nil: id = .absent
            case .null?: id = .null
            case .int(let value)?: id = .integer(value)
            case .double(let value)?: id = RPCID(exactly: value).map(ID.integer) ?? .other
            default: id = .other
            }
            switch members["method"] {
            case nil: method = .absent
            case .string(let name)?:
                method = .present
                methodName = name
            default: method = .wrongType
            }
            switch members["params"] {
            case nil, .null?: params = .absent
            case .object?: params = .present
            default: params = .wrongType
            }
            hasResult = members["result"] != nil
            errorIsMalformed = false
            if let value = members["error"] {
                error = try? JSONValueDecoder.decode(RPCError.self, from: value, codingPath: [WireKey("error")])
                errorIsMalformed = error == nil
            }
        }

        func classify(payload: MessagePayload) throws(EnvelopeError) -> InboundMessage {
            var readableID: RPCID? {
                if case .integer(let value) = id { return value }
                return nil
            }
            func invalid(_ message: String) -> EnvelopeError {
                EnvelopeError(id: readableID, error: .invalidRequest(message))
            }
            guard jsonrpc == "2.0" else {
                throw invalid("The message lacks \"jsonrpc\": \"2.0\"; only JSON-RPC 2.0 is spoken here.")
            }
            switch method {
            case .wrongType:
                throw invalid("The \"method\" member must be a string naming the method.")
            case .present:
                guard let methodName, !methodName.isEmpty else { throw invalid("The \"method\" member is empty.") }
                if params == .wrongType {
                    throw invalid("The \"params\" member must be an object; positional (array) params are not used.")
                }
                switch id {
                case .integer(let value): return .request(id: value, method: methodName, payload: payload)
                case .absent: return .notification(method: methodName, payload: payload)
                case .null, .other:
                    throw invalid("A request id must be an integer; strings, fractions and null are not accepted.")
                }
            case .absent:
                if let error {
                    switch id {
                    case .integer(let value): return .errorResponse(id: value, error: error)
                    case .null, .absent: return .errorResponse(id: nil, error: error)
                    case .other: throw invalid("A response id must be an integer or null.")
                    }
                }
                if errorIsMalformed {
                    throw invalid("The \"error\" member must be an object with an integer code and a message.")
                }
                guard hasResult else {
                    throw invalid("The message has no \"method\", \"result\" or \"error\"; it is neither a request nor a response.")
                }
                guard case .integer(let value) = id else {
                    throw invalid("A response id must be the integer id of the request it answers.")
                }
                return .response(id: value, payload: payload)
            }
        }
    }
}

/// Outbound messages, encoded to the bytes of one frame payload.
public enum OutboundMessage {
    public static func request<P: Encodable>(id: RPCID, method: String, params: P) throws -> ByteBuffer {
        try WireCoding.encode(Request(id: id, method: method, params: params))
    }

    public static func notification<P: Encodable>(method: String, params: P) throws -> ByteBuffer {
        try WireCoding.encode(Notification(method: method, params: params))
    }

    public static func response<R: Encodable>(id: RPCID, result: R) throws -> ByteBuffer {
        try WireCoding.encode(Response(id: id, result: result))
    }

    /// An error response; `id` nil is encoded as `"id": null` for frames that could not be read.
    public static func error(id: RPCID?, _ error: RPCError) -> ByteBuffer {
        // An RPCError always encodes; the fallback only guards against a broken Foundation.
        (try? WireCoding.encode(ErrorResponse(id: id, error: error)))
            ?? ByteBuffer(string: #"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal"}}"#)
    }

    private struct Request<P: Encodable>: Encodable {
        var jsonrpc = "2.0"
        var id: RPCID
        var method: String
        var params: P
    }

    private struct Notification<P: Encodable>: Encodable {
        var jsonrpc = "2.0"
        var method: String
        var params: P
    }

    private struct Response<R: Encodable>: Encodable {
        var jsonrpc = "2.0"
        var id: RPCID
        var result: R
    }

    private struct ErrorResponse: Encodable {
        var jsonrpc = "2.0"
        var id: RPCID?
        var error: RPCError

        enum CodingKeys: String, CodingKey { case jsonrpc, id, error }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(jsonrpc, forKey: .jsonrpc)
            try container.encode(id, forKey: .id)  // explicit null when nil
            try container.encode(error, forKey: .error)
        }
    }
}

/// How the wire codes JSON. Frames are written by ``JSONValueEncoder`` and ``CanonicalJSON``
/// (sorted keys, no insignificant whitespace) and read by the strict parser and
/// ``JSONValueDecoder``: each frame is parsed once and built once, without Foundation's coders on
/// the hot path (DESIGN §3.8: JSON coding is the budget to watch). The Foundation coders stay
/// for anything else that wants them, configured to agree.
public enum WireCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static let decoder = JSONDecoder()

    public static func encode<T: Encodable>(_ value: T) throws -> ByteBuffer {
        ByteBuffer(string: CanonicalJSON.string(try JSONValueEncoder.encode(value)))
    }

    /// A one-line account of a decoding failure, naming the member at fault.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "the message" : "\"\(path)\""
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "\"\(key.stringValue)\" is missing" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "\(path(context)) should be \(WireCoding.typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) should be \(WireCoding.typeName(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the JSON is malformed" : "\(path(context)) is malformed: \(context.debugDescription)"
        @unknown default:
            return "it could not be decoded"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is UInt32.Type, is Int32.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Double.Type: return "a number"
        default: return type is any Collection.Type ? "an array" : "an object"
        }
    }
}
