import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import SunshineModel
import SunshinePKI
import SunshineWire

/// The coordinator's listener: accepts TLS connections from agents and operators and runs one
/// ``RPCConnection`` per client. One connection's failure never touches another.
///
/// Runs as a swift-service-lifecycle `Service`: on graceful shutdown it stops accepting, answers
/// the requests in progress (``RPCConnection/drain(reason:)``), says `bye` to every client and
/// returns when they are closed.
///
/// The revocation list can be replaced while it runs (``reloadRevocations(_:)``): the new list
/// decides every handshake from then on and closes the connections it revokes.
public final class RPCServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var listen: Endpoint
        public var rpc = RPCConfiguration()
        /// How many connections may wait for `hello` and how many may be authenticated, per address,
        /// per certificate and in total (DESIGN §3.9).
        public var limits = Limits()
        /// Roles allowed to connect.
        public var allowedRoles: Set<NodeRole> = [.agent, .operator]
        /// Certificates refused at the handshake even though the CA signed them: the list the
        /// server starts with (``RPCServer/revocations`` is the one in force).
        public var revocations = RevocationList()

        public init(listen: Endpoint) {
            self.listen = listen
        }
    }

    private enum Binding {
        case waiting([CheckedContinuation<SocketAddress, any Error>])
        case bound(SocketAddress)
        case failed(any Error)
    }

    /// The bounds on connections, as ``Admission`` enforces them.
    public struct Limits: Sendable {
        public var pending = 512
        public var pendingPerAddress = 16
        public var established = 4_096
        public var perIdentity = 8

        public init() {}
    }

    /// An open connection and, once its handshake passed, the certificate it presented.
    private struct Live {
        let connection: RPCConnection
        var peer: PeerCertificate?
        var revoked = false
    }

    /// The revocation list in force and the open connections, under one lock so that a reload and
    /// a handshake finishing at the same moment cannot miss each other.
    private struct Registry {
        var revocations: RevocationList
        var connections: [ObjectIdentifier: Live] = [:]
        var admission: Admission
    }

    public let configuration: Configuration
    private let tls: NIOSSLContext
    private let responder: any RPCResponder
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let binding = NIOLockedValueBox(Binding.waiting([]))
    private let registry: NIOLockedValueBox<Registry>

    public init(
        configuration: Configuration,
        tls: NIOSSLContext,
        responder: any RPCResponder,
        logger: Logger = Logger(label: "sunshine.rpc"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.tls = tls
        self.responder = responder
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        let limits = configuration.limits
        self.registry = NIOLockedValueBox(Registry(
            revocations: configuration.revocations,
            admission: Admission(limits: .init(
                pending: limits.pending, pendingPerAddress: limits.pendingPerAddress, established: limits.established, perIdentity: limits.perIdentity
            ))
        ))
    }

    /// The address the server listens on, once bound (useful with port 0).
    public func localAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let resolved: Swift.Result<SocketAddress, any Error>? = binding.withLockedValue { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .bound(let address): return .success(address)
                case .failed(let error): return .failure(error)
                }
            }
            if let resolved { continuation.resume(with: resolved) }
        }
    }

    /// The connections currently open.
    public var connections: [RPCConnection] {
        registry.withLockedValue { $0.connections.values.map(\.connection) }
    }

    /// The revocation list in force: the configured one, or the last one reloaded.
    public var revocations: RevocationList { registry.withLockedValue { $0.revocations } }

    /// Replaces the revocation list while the server runs (the coordinator calls this on SIGHUP),
    /// and closes every open connection whose certificate the new list revokes, with a `forbidden`
    /// frame saying so. Handshakes from now on — including any still under way — are checked
    /// against the new list.
    ///
    /// - Returns: how many open connections the new list closed.
    @discardableResult
    public func reloadRevocations(_ list: RevocationList) -> Int {
        let revoked = registry.withLockedValue { registry -> [(RPCConnection, CertificateSummary)] in
            registry.revocations = list
            var revoked: [(RPCConnection, CertificateSummary)] = []
            for (key, live) in registry.connections where !live.revoked {
                guard let peer = live.peer, list.revokes(peer.summary) else { continue }
                registry.connections[key]?.revoked = true
                revoked.append((live.connection, peer.summary))
            }
            return revoked
        }
        for (connection, summary) in revoked {
            logger.notice("closing \(summary.identity.map { "\($0)" } ?? "a peer"): its certificate is now revoked")
            connection.beginRefusal(.revoked(summary))
        }
        return revoked.count
    }

    public func run() async throws {
        let serverChannel: NIOAsyncChannel<(NIOAsyncChannel<ByteBuffer, ByteBuffer>, EventLoopFuture<PeerCertificate>), Never>
        do {
            serverChannel = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.listen.host, port: configuration.listen.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try ClusterPipeline.configure(
                            channel,
                            tls: NIOSSLServerHandler(context: self.tls),
                            maxFrame: self.configuration.rpc.maxFrame,
                            allowedRoles: self.configuration.allowedRoles,
                            revocations: { self.revocations }
                        )
                    }
                }
        } catch {
            let failure = RPCServerError("Cannot listen on \(configuration.listen) (\(error)); pick another --listen address or stop what uses it.")
            resolveBinding(.failure(failure))
            throw failure
        }
        if let address = serverChannel.channel.localAddress { resolveBinding(.success(address)) }

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await (connection, identity) in inbound {
                        group.addTask { await self.serve(connection, identity: identity) }
                    }
                }
                await self.sayBye(reason: "the coordinator is shutting down")
            }
        } onGracefulShutdown: {
            serverChannel.channel.close(promise: nil)
        }
    }

    private func serve(_ child: NIOAsyncChannel<ByteBuffer, ByteBuffer>, identity: EventLoopFuture<PeerCertificate>) async {
        do {
            try await child.executeThenClose { inbound, outbound in
                let connection = RPCConnection(
                    side: .server,
                    channel: child.channel,
                    outbound: outbound,
                    configuration: configuration.rpc,
                    logger: logger
                )
                let key = ObjectIdentifier(connection)
                let address = child.channel.remoteAddress?.ipAddress ?? "unknown"
                let evicted = registry.withLockedValue { registry in
                    registry.connections[key] = Live(connection: connection)
                    return registry.admission.arrived(key, from: address)
                }
                giveWay(evicted, reason: "too many connections are waiting for hello")
                defer {
                    registry.withLockedValue { registry in
                        registry.admission.left(key)
                        registry.connections.removeValue(forKey: key)
                    }
                }
                identity.whenSuccess { peer in self.track(peer, of: connection) }
                await connection.run(inbound: inbound, responder: responder, serverIdentity: identity) { connection in
                    let identity = connection.peer.map { "\($0.identity)" } ?? "unknown"
                    guard let evicted = self.registry.withLockedValue({ $0.admission.authenticated(key, as: identity) }) else { return false }
                    self.giveWay(evicted, reason: "a newer connection with the same certificate replaced it")
                    return true
                }
            }
        } catch {
            logger.debug("connection closed with \(error)")
        }
    }

    /// Closes connections that must make room for newer ones.
    private func giveWay(_ evicted: [ObjectIdentifier], reason: String) {
        guard !evicted.isEmpty else { return }
        let connections = registry.withLockedValue { registry in evicted.compactMap { registry.connections[$0]?.connection } }
        for connection in connections {
            logger.notice("closing a connection from \(connection.remoteAddress.map { "\($0)" } ?? "an unknown address"): \(reason)")
            connection.beginClose(reason: reason)
        }
    }

    /// Notes the certificate a connection presented, so that a later reload can find it. A reload
    /// that came between the handshake's check and this moment is caught here.
    private func track(_ peer: PeerCertificate, of connection: RPCConnection) {
        let key = ObjectIdentifier(connection)
        let revoked = registry.withLockedValue { registry -> RPCConnection? in
            guard var live = registry.connections[key], live.connection === connection else { return nil }
            live.peer = peer
            live.revoked = registry.revocations.revokes(peer.summary)
            registry.connections[key] = live
            return live.revoked ? live.connection : nil
        }
        revoked?.beginRefusal(.revoked(peer.summary))
    }

    private func sayBye(reason: String) async {
        await withDiscardingTaskGroup { group in
            for connection in connections {
                group.addTask { await connection.drain(reason: reason) }
            }
        }
    }

    private func resolveBinding(_ result: Swift.Result<SocketAddress, any Error>) {
        let waiters = binding.withLockedValue { state -> [CheckedContinuation<SocketAddress, any Error>] in
            guard case .waiting(let waiters) = state else { return [] }
            switch result {
            case .success(let address): state = .bound(address)
            case .failure(let error): state = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}

/// The listener could not start, in one sentence.
public struct RPCServerError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
