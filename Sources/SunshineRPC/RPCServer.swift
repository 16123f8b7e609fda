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
/// Runs as a swift-service-lifecycle `Service`: on graceful shutdown it stops accepting, says `bye`
/// to every client and returns when they are closed.
public final class RPCServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var listen: Endpoint
        public var rpc = RPCConfiguration()
        /// How many connections may wait for `hello` and how many may be authenticated, per address,
        /// per certificate and in total (DESIGN §3.9).
        public var limits = Limits()
        /// Roles allowed to connect.
        public var allowedRoles: Set<NodeRole> = [.agent, .operator]
        /// Certificates refused at the handshake even though the CA signed them.
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

    public let configuration: Configuration
    private let tls: NIOSSLContext
    private let responder: any RPCResponder
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let binding = NIOLockedValueBox(Binding.waiting([]))
    private let live = NIOLockedValueBox([ObjectIdentifier: RPCConnection]())
    private let admission: NIOLockedValueBox<Admission>

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
        admission = NIOLockedValueBox(Admission(limits: .init(
            pending: limits.pending, pendingPerAddress: limits.pendingPerAddress, established: limits.established, perIdentity: limits.perIdentity
        )))
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
    public var connections: [RPCConnection] { live.withLockedValue { Array($0.values) } }

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
                            revocations: self.configuration.revocations
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
                live.withLockedValue { $0[key] = connection }
                let address = child.channel.remoteAddress?.ipAddress ?? "unknown"
                giveWay(admission.withLockedValue { $0.arrived(key, from: address) }, reason: "too many connections are waiting for hello")
                defer {
                    admission.withLockedValue { $0.left(key) }
                    _ = live.withLockedValue { $0.removeValue(forKey: key) }
                }
                await connection.run(inbound: inbound, responder: responder, serverIdentity: identity) { connection in
                    let identity = connection.peer.map { "\($0.identity)" } ?? "unknown"
                    guard let evicted = self.admission.withLockedValue({ $0.authenticated(key, as: identity) }) else { return false }
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
        let connections = live.withLockedValue { live in evicted.compactMap { live[$0] } }
        for connection in connections {
            logger.notice("closing a connection from \(connection.remoteAddress.map { "\($0)" } ?? "an unknown address"): \(reason)")
            connection.beginClose(reason: reason)
        }
    }

    private func sayBye(reason: String) async {
        await withDiscardingTaskGroup { group in
            for connection in connections {
                group.addTask { await connection.close(reason: reason) }
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
