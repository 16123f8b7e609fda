import Logging
import NIOSSL
import ServiceLifecycle
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineWire

/// The county's coordinator: the TLS listener plus the county's store. It accepts agents and
/// operators whose certificates chain to the cluster CA, applies pushes, serves pulls, tells
/// agents when something new is meant for them, and answers operators.
public final class CoordinatorService: Service, Sendable {
    public let sessions: NodeSessions
    public let county: County
    public let server: RPCServer

    public init(
        configuration: RPCServer.Configuration,
        tls: NIOSSLContext,
        revocations: RevocationList = RevocationList(),
        store: ReplicaStore,
        logger: Logger = Logger(label: "sunshine.coordinator")
    ) {
        let sessions = NodeSessions()
        let county = County(store: store, sessions: sessions)
        self.sessions = sessions
        self.county = county
        self.server = RPCServer(
            configuration: configuration,
            tls: tls,
            revocations: revocations,
            responder: CoordinatorResponder(county: county, logger: logger),
            logger: logger
        )
    }

    public func run() async throws {
        try await server.run()
    }
}

/// Maps methods and roles onto ``County`` for one connection (DESIGN §3.3, §3.7).
struct CoordinatorResponder: RPCResponder {
    let county: County
    let logger: Logger

    var sessions: NodeSessions { county.sessions }

    func acceptHello(_ hello: HelloParams, from peer: PeerCertificate, on connection: RPCConnection) async throws -> Int64 {
        sessions.connected(peer.identity, connection: connection)
        return peer.identity.role == .agent ? try await county.checkpoint(of: peer.identity.node) : 0
    }

    func isOrdered(_ method: String) -> Bool { method == Method.push }

    func respond(to method: String, payload: MessagePayload, on connection: RPCConnection) async throws -> any Encodable & Sendable {
        guard let identity = connection.peer?.identity else { throw RPCError(.unauthenticated, "Say hello first.") }
        sessions.heard(from: identity.node)
        if Method.agentMethods.contains(method) && identity.role != .agent {
            throw RPCError.forbidden("\(method) is for township agents; operators write through put, resolve and closeRound.")
        }
        if Method.operatorMethods.contains(method) && identity.role != .operator {
            throw RPCError.forbidden("\(method) is an operator method; \(identity.node) is a \(identity.role.rawValue).")
        }
        switch method {
        case Method.push:
            let (result, fanout) = try await county.push(try payload.params(as: PushParams.self), from: identity.node)
            await notify(fanout)
            return result
        case Method.pull:
            return try await county.pull(try payload.params(as: PullParams.self), for: identity.node)
        case Method.status:
            return try await county.status()
        case Method.tally:
            return try await county.tally(try payload.params(as: TallyParams.self))
        case Method.conflicts:
            return try await county.conflicts()
        case Method.put:
            let (record, fanout) = try await county.put(try payload.params(as: PutParams.self))
            await notify(fanout)
            return VersionResult(record: record.json)
        case Method.resolve:
            let (record, fanout) = try await county.resolve(try payload.params(as: ResolveParams.self))
            await notify(fanout)
            return VersionResult(record: record.json)
        case Method.closeRound:
            return try await county.closeRound(try payload.params(as: CloseRoundParams.self))
        default:
            throw RPCError.methodNotFound(method)
        }
    }

    func pinged(_ params: PingParams, on connection: RPCConnection) async {
        guard let node = connection.peer?.identity.node else { return }
        sessions.heard(from: node, report: params)
    }

    func connectionClosed(_ connection: RPCConnection) async {
        guard let node = connection.peer?.identity.node, connection.hello != nil else { return }
        sessions.disconnected(node, connection: connection)
    }

    /// Tells connected agents that something new is meant for them.
    private func notify(_ fanout: County.Fanout) async {
        guard !fanout.isEmpty, let upto = try? await county.store.read({ try $0.latestSeq() }) else { return }
        for connection in sessions.agentConnections where fanout.includes(connection.node) {
            try? await connection.connection.notify(Method.changed, params: ChangedParams(upto: upto))
        }
    }
}
