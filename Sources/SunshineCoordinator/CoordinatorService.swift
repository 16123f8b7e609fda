import Logging
import NIOSSL
import ServiceLifecycle
import SunshinePKI
import SunshineRPC
import SunshineWire

/// The county's coordinator: the TLS listener plus what it answers. It accepts agents and
/// operators whose certificates chain to the cluster CA, tracks who is online, and answers
/// `hello`, `ping` and `bye`.
public final class CoordinatorService: Service, Sendable {
    public let sessions: NodeSessions
    public let server: RPCServer

    public init(
        configuration: RPCServer.Configuration,
        tls: NIOSSLContext,
        revocations: RevocationList = RevocationList(),
        logger: Logger = Logger(label: "sunshine.coordinator")
    ) {
        let sessions = NodeSessions()
        self.sessions = sessions
        self.server = RPCServer(
            configuration: configuration,
            tls: tls,
            revocations: revocations,
            responder: CoordinatorResponder(sessions: sessions),
            logger: logger
        )
    }

    public func run() async throws {
        try await server.run()
    }
}

/// Answers one connection's requests on behalf of the coordinator.
struct CoordinatorResponder: RPCResponder {
    let sessions: NodeSessions

    func acceptHello(_ hello: HelloParams, from peer: PeerCertificate, on connection: RPCConnection) async throws -> Int64 {
        sessions.connected(peer.identity)
        return 0
    }

    func pinged(_ params: PingParams, on connection: RPCConnection) async {
        guard let node = connection.peer?.identity.node else { return }
        sessions.heard(from: node, report: params)
    }

    func connectionClosed(_ connection: RPCConnection) async {
        guard let node = connection.peer?.identity.node, connection.hello != nil else { return }
        sessions.disconnected(node)
    }
}
