/// The error table of DESIGN §3.2: each code with its `reason` and what happens to the connection.
public enum RPCErrorCode: Int, Sendable, CaseIterable, Codable {
    case parseError = -32700
    case invalidRequest = -32600
    case methodNotFound = -32601
    case invalidParams = -32602
    case `internal` = -32603
    case unauthenticated = 1001
    case forbidden = 1002
    case frameTooLarge = 1003
    case unsupportedProtocol = 1004
    case overloaded = 1005
    case timeout = 1006
    case outOfOrder = 1007

    /// The machine-readable `data.reason`.
    public var reason: String {
        switch self {
        case .parseError: return "parse_error"
        case .invalidRequest: return "invalid_request"
        case .methodNotFound: return "method_not_found"
        case .invalidParams: return "invalid_params"
        case .internal: return "internal"
        case .unauthenticated: return "unauthenticated"
        case .forbidden: return "forbidden"
        case .frameTooLarge: return "frame_too_large"
        case .unsupportedProtocol: return "unsupported_protocol"
        case .overloaded: return "overloaded"
        case .timeout: return "timeout"
        case .outOfOrder: return "out_of_order"
        }
    }

    /// Whether the sender closes the connection after sending this error. `forbidden` is kept,
    /// except at `hello`, where the caller passes that decision explicitly.
    public var closesConnection: Bool {
        switch self {
        case .parseError, .invalidRequest, .unauthenticated, .frameTooLarge, .unsupportedProtocol, .timeout:
            return true
        case .methodNotFound, .invalidParams, .internal, .forbidden, .overloaded, .outOfOrder:
            return false
        }
    }

    /// Whether the same request may succeed if simply sent again later.
    public var retryable: Bool { self == .overloaded }
}

/// A JSON-RPC error object `{code, message, data: {reason, retryable}}` (DESIGN §3.2).
///
/// `message` is one sentence for a person: what was wrong and what to do.
public struct RPCError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public struct Details: Sendable, Equatable, Codable {
        public var reason: String
        public var retryable: Bool
        /// With `out_of_order`: the checkpoint the agent resumes after.
        public var checkpoint: Int64?

        public init(reason: String, retryable: Bool, checkpoint: Int64? = nil) {
            self.reason = reason
            self.retryable = retryable
            self.checkpoint = checkpoint
        }
    }

    public var code: Int
    public var message: String
    public var data: Details?

    public init(_ code: RPCErrorCode, _ message: String) {
        self.code = code.rawValue
        self.message = message
        self.data = Details(reason: code.reason, retryable: code.retryable)
    }

    /// The table entry for this error, if the code is one of ours.
    public var known: RPCErrorCode? { RPCErrorCode(rawValue: code) }

    public var reason: String { data?.reason ?? known?.reason ?? "unknown" }

    public var description: String { "\(message) [\(reason), code \(code)]" }

    public static func parseError(_ message: String) -> RPCError { RPCError(.parseError, message) }
    public static func invalidRequest(_ message: String) -> RPCError { RPCError(.invalidRequest, message) }
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(.methodNotFound, "The method \"\(method)\" does not exist on this peer; check the protocol version.")
    }
    public static func invalidParams(_ message: String) -> RPCError { RPCError(.invalidParams, message) }
    public static func `internal`(_ message: String) -> RPCError { RPCError(.internal, message) }
    public static func forbidden(_ message: String) -> RPCError { RPCError(.forbidden, message) }
    public static func timeout(_ message: String) -> RPCError { RPCError(.timeout, message) }
    public static func overloaded(_ message: String) -> RPCError { RPCError(.overloaded, message) }
    public static func outOfOrder(_ message: String, checkpoint: Int64) -> RPCError {
        var error = RPCError(.outOfOrder, message)
        error.data?.checkpoint = checkpoint
        return error
    }
}
