import Logging
import SunshineCounty
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineWire
import Synchronization

/// The one place where the coordinator's wire meets its core: it decodes each method's params,
/// checks the caller's role, calls ``County``, encodes the result, and maps the county's errors to
/// the codes of DESIGN §3.2.
struct CoordinatorResponder: RPCResponder {
    let county: County
    let subscribers: Subscribers
    /// The connections counted as their node's, in presence: counted in once at hello, out once.
    let counted = CountedConnections()
    let logger: Logger

    func acceptHello(_ hello: HelloParams, from peer: PeerCertificate, on connection: RPCConnection) async throws -> HelloAcceptance {
        let identity = peer.identity
        county.connected(identity)
        counted.insert(connection)
        guard identity.role == .agent else {
            if identity.role == .operator { subscribers.addOperator(connection) }
            return HelloAcceptance()
        }
        let agent = Self.session(of: identity, hello)
        do {
            let welcome = try await county.hello(agent, pulled: hello.pulled.map { PullPosition(upto: $0.upto, head: $0.head) })
            subscribers.add(agent.reader, connection)
            await notifyOperators()
            return HelloAcceptance(
                checkpoint: welcome.checkpoint, store: agent.store, pullFrom: welcome.pullFrom, checkpointHead: welcome.checkpointHead
            )
        } catch {
            // The session is refused: this connection no longer counts as the township online.
            if counted.remove(connection) { county.disconnected(identity) }
            throw Self.rpcError(error)
        }
    }

    /// The agent store a connection speaks for; an agent that names no store is one store ("").
    static func session(of identity: NodeIdentity, _ hello: HelloParams?) -> AgentSession {
        AgentSession(node: identity.node, store: hello?.store ?? "")
    }

    /// The protocol's method names for the county's operations (DESIGN §3.3).
    static let operations: [String: CountyOperation] = [
        Method.push: .push, Method.pull: .pull, Method.status: .status, Method.tally: .tally, Method.conflicts: .conflicts,
        Method.put: .put, Method.resolve: .resolve, Method.closeRound: .closeRound, Method.rejected: .rejected,
    ]

    /// A window of pipelined pushes must commit in the order it was sent.
    func isOrdered(_ method: String) -> Bool { method == Method.push }

    func respond(to method: String, payload: MessagePayload, on connection: RPCConnection) async throws -> any Encodable & Sendable {
        try await respond(to: method, payload: payload, on: connection, turn: nil)
    }

    func respond(
        to method: String, payload: MessagePayload, on connection: RPCConnection, turn: OrderedTurn
    ) async throws -> any Encodable & Sendable {
        try await respond(to: method, payload: payload, on: connection, turn: Optional(turn))
    }

    private func respond(
        to method: String, payload: MessagePayload, on connection: RPCConnection, turn: OrderedTurn?
    ) async throws -> any Encodable & Sendable {
        guard let identity = connection.peer?.identity else { throw RPCError(.unauthenticated, "Say hello first.") }
        county.presence.heard(from: identity.node)
        guard let operation = Self.operations[method] else { throw RPCError.methodNotFound(method) }
        do {
            try operation.authorize(identity)
            return try await perform(operation, payload: payload, as: identity, on: connection, turn: turn)
        } catch {
            // The session is refused: this connection no longer counts as the township online.
            if counted.remove(connection) { county.disconnected(identity) }
            throw Self.rpcError(error)
        }
    }

    private func perform(
        _ operation: CountyOperation, payload: MessagePayload, as identity: NodeIdentity, on connection: RPCConnection, turn: OrderedTurn?
    ) async throws -> any Encodable & Sendable {
        switch operation {
        case .push:
            // Reading the records overlaps the pushes before this one; applying them follows them.
            let batch = PushBatch(try payload.params(as: PushParams.self))
            await turn?.begin()
            let outcome = try await county.push(batch, from: Self.session(of: identity, connection.hello), queued: { turn?.end() })
            subscribers.notify(outcome.audience, upto: outcome.logUpto)
            return PushResult(outcome)
        case .pull:
            let params = try payload.params(as: PullParams.self)
            // The page's records are bounded by the agent's maxFrame, with room for the envelope.
            let maxBytes = connection.peerMaxFrame - Self.pageOverhead
            return PullResult(try await county.pull(since: params.since, limit: params.limit, maxBytes: maxBytes, for: Self.session(of: identity, connection.hello).reader))
        case .status:
            return StatusResult(try await county.status())
        case .tally:
            let params = try payload.params(as: TallyParams.self)
            return TallyResult(try await county.tally(contest: params.contest, round: params.round))
        case .conflicts:
            let open = try await county.conflicts(maxBytes: connection.peerMaxFrame - Self.pageOverhead)
            return ConflictsResult(open.conflicts, more: open.more)
        case .put:
            let params = try payload.params(as: PutParams.self)
            guard let kind = RecordKind(rawValue: params.kind) else {
                throw CountyError.invalid("kind \"\(params.kind)\" is not one of ballot, finding, contest.")
            }
            return published(try await county.put(kind: kind, key: params.key, data: params.data, deleted: params.deleted ?? false))
        case .resolve:
            let params = try payload.params(as: ResolveParams.self)
            return published(try await county.resolve(key: params.key, data: params.data))
        case .closeRound:
            let params = try payload.params(as: CloseRoundParams.self)
            let closing = try await county.closeRound(contest: params.contest, round: params.round, evenIfBehind: params.evenIfBehind ?? false)
            if let written = closing.written { subscribers.notify(written.audience, upto: written.logUpto) }
            return CloseRoundResult(contest: params.contest, round: params.round, newlyClosed: closing.newlyClosed)
        case .rejected:
            let params = try payload.params(as: RejectedParams.self)
            let held = try await county.rejected(
                township: params.township, before: params.before, limit: params.limit, maxBytes: connection.peerMaxFrame - Self.pageOverhead)
            return RejectedResult(held.refusals, more: held.more)
        }
    }

    /// Bytes of a `pull`, `conflicts` or `rejected` frame left for its envelope: the JSON-RPC
    /// members, `upto`, `head`, `more`, and the difference between a record's canonical form and
    /// its wire encoding.
    static let pageOverhead = 16 * 1_024

    private func published(_ written: Written) -> VersionResult {
        subscribers.notify(written.audience, upto: written.logUpto)
        return VersionResult(record: written.record.json)
    }

    func pinged(_ params: PingParams, on connection: RPCConnection) async {
        guard let identity = connection.peer?.identity else { return }
        county.presence.heard(from: identity.node, store: Self.session(of: identity, connection.hello).store, seq: params.seq, outbox: params.outbox)
    }

    func connectionClosed(_ connection: RPCConnection) async {
        // Only a connection this responder counted as connected is counted out.
        guard let identity = connection.peer?.identity, counted.remove(connection) else { return }
        subscribers.remove(connection)
        county.disconnected(identity)
        if identity.role == .agent { await notifyOperators() }
    }

    /// Tells operators that a township came or went or a round closed: changes outside the log.
    private func notifyOperators() async {
        subscribers.notifyOperators(upto: (try? await county.store.read { try $0.latestSeq() }) ?? 0)
    }

    /// The county's errors as the protocol's (DESIGN §3.2): the only place they are mapped.
    static func rpcError(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: return error
        case CountyError.invalid(let message): return .invalidParams(message)
        case CountyError.forbidden(let message): return .forbidden(message)
        case let error as CountyError:
            if case .outOfOrder(let checkpoint) = error { return .outOfOrder(error.message, checkpoint: checkpoint) }
            return .internal(error.message)
        case let error as StoreError: return .internal("The coordinator's store failed and the request had no effect (\(error)).")
        default: return .internal("The request failed inside the coordinator and had no effect; try again.")
        }
    }
}

/// Connections a responder has counted in presence, so that each is counted out exactly once.
final class CountedConnections: Sendable {
    private let connections = Mutex<Set<ObjectIdentifier>>([])

    func insert(_ connection: RPCConnection) {
        _ = connections.withLock { $0.insert(ObjectIdentifier(connection)) }
    }

    /// Whether `connection` was counted (it no longer is).
    func remove(_ connection: RPCConnection) -> Bool {
        connections.withLock { $0.remove(ObjectIdentifier(connection)) != nil }
    }
}
