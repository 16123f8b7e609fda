import SunshineWire

/// What the application does with what a peer sends. The coordinator implements it to serve
/// agents and operators; an agent implements it for what the coordinator sends (`changed`).
///
/// Every method may be called concurrently for pipelined requests; a thrown ``RPCError`` goes back
/// to the peer as it is, any other error as `internal` ("the request had no effect").
public protocol RPCResponder: Sendable {
    /// Server side: a `hello` whose node and role match the peer's certificate. Returns what the
    /// `hello` result says of the node (its checkpoint, DESIGN §3.3), or throws to refuse the session.
    func acceptHello(_ hello: HelloParams, from peer: PeerCertificate, on connection: RPCConnection) async throws -> HelloAcceptance

    /// Whether requests of `method` from one connection take turns in the order they arrived (a
    /// window of pipelined pushes must apply in order): each is answered by
    /// ``respond(to:payload:on:turn:)``. Others run concurrently.
    func isOrdered(_ method: String) -> Bool

    /// A request other than `hello` and `ping`. Returns the result to encode.
    func respond(to method: String, payload: MessagePayload, on connection: RPCConnection) async throws -> any Encodable & Sendable

    /// An ordered request: what must follow the ordered requests before it waits for
    /// `turn.begin()`, and `turn.end()` lets the next one begin (see ``OrderedTurn``). By default
    /// the whole of ``respond(to:payload:on:)`` is the turn.
    func respond(
        to method: String, payload: MessagePayload, on connection: RPCConnection, turn: OrderedTurn
    ) async throws -> any Encodable & Sendable

    /// A notification other than `bye`.
    func receive(notification method: String, payload: MessagePayload, on connection: RPCConnection) async

    /// The peer pinged; agents report their change-log position and outbox in pings.
    func pinged(_ params: PingParams, on connection: RPCConnection) async

    /// The connection is closed; no more calls arrive from it.
    func connectionClosed(_ connection: RPCConnection) async
}

extension RPCResponder {
    public func acceptHello(_ hello: HelloParams, from peer: PeerCertificate, on connection: RPCConnection) async throws -> HelloAcceptance {
        HelloAcceptance()
    }

    public func isOrdered(_ method: String) -> Bool { false }

    public func respond(to method: String, payload: MessagePayload, on connection: RPCConnection) async throws -> any Encodable & Sendable {
        throw RPCError.methodNotFound(method)
    }

    public func respond(
        to method: String, payload: MessagePayload, on connection: RPCConnection, turn: OrderedTurn
    ) async throws -> any Encodable & Sendable {
        await turn.begin()
        defer { turn.end() }
        return try await respond(to: method, payload: payload, on: connection)
    }

    public func receive(notification method: String, payload: MessagePayload, on connection: RPCConnection) async {}

    public func pinged(_ params: PingParams, on connection: RPCConnection) async {}

    public func connectionClosed(_ connection: RPCConnection) async {}
}

/// Why a call to the peer failed on this side, as opposed to an ``RPCError`` the peer sent.
public enum RPCCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer arrived in time; the connection stays open and a late answer is dropped.
    case timedOut(method: String, seconds: Double)
    /// The connection closed before the answer arrived.
    case connectionClosed(reason: String)
    /// The message is larger than the peer accepts.
    case tooLarge(method: String, bytes: Int, peerMaxFrame: Int)

    public var description: String {
        switch self {
        case .timedOut(let method, let seconds):
            return "\"\(method)\" got no answer within \(seconds) s; the peer may be overloaded or the link slow."
        case .connectionClosed(let reason):
            return "The connection closed before the answer arrived (\(reason))."
        case .tooLarge(let method, let bytes, let peerMaxFrame):
            return "The \"\(method)\" message is \(bytes) bytes, over the peer's maxFrame of \(peerMaxFrame); send less at once."
        }
    }
}
