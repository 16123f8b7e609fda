import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SunshinePKI
import SunshineWire

/// Connects to the coordinator, says `hello`, and hands the live connection to a body.
///
/// When the body returns, the client says `bye` and closes; when the connection fails, the body's
/// calls fail and the error is thrown here, so a caller's retry loop sees every disconnect.
public enum RPCClient {
    public struct Options: Sendable {
        public var rpc = RPCConfiguration()
        public var connectTimeout: TimeAmount = .seconds(10)
        /// What this client reports in its heartbeat pings (an agent's seq and outbox).
        public var pingReport: @Sendable () async -> PingParams = { PingParams() }

        public init() {}
    }

    public static func withConnection<T: Sendable>(
        to endpoint: Endpoint,
        tls: NIOSSLContext,
        hello: HelloParams,
        options: Options = Options(),
        responder: any RPCResponder = NoRequestsResponder(),
        logger: Logger = Logger(label: "sunshine.rpc"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        body: @Sendable (RPCConnection, HelloResult) async throws -> T
    ) async throws -> T {
        let (channel, identity) = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ClusterPipeline.configure(
                        channel,
                        tls: NIOSSLClientHandler(context: tls, serverHostname: ClusterTLS.serverHostname(for: endpoint.host)),
                        maxFrame: options.rpc.maxFrame,
                        allowedRoles: [.coordinator],
                        revocations: { RevocationList() }
                    )
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let connection = RPCConnection(
                side: .client,
                channel: channel.channel,
                outbound: outbound,
                configuration: options.rpc,
                logger: logger,
                pingReport: options.pingReport
            )
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { await connection.run(inbound: inbound, responder: responder) }
                do {
                    // A peer that accepts the connection but never completes TLS must not hold this
                    // client for ever: the handshake shares hello's deadline.
                    let timedOut = NIOLockedValueBox(false)
                    let raw = channel.channel
                    let deadline = raw.eventLoop.scheduleTask(in: options.rpc.connection.helloTimeout) {
                        timedOut.withLockedValue { $0 = true }
                        raw.close(promise: nil)
                    }
                    let peer: PeerCertificate
                    do {
                        peer = try await identity.get()
                        deadline.cancel()
                    } catch where timedOut.withLockedValue({ $0 }) {
                        let seconds = options.rpc.connection.helloTimeout.nanoseconds / 1_000_000_000
                        throw RPCCallError.connectionClosed(
                            reason: "\(endpoint) accepted the connection but did not complete the TLS handshake within \(seconds) s"
                        )
                    }
                    let result = try await connection.call(
                        Method.hello,
                        params: hello,
                        returning: HelloResult.self,
                        timeout: options.rpc.connection.helloTimeout
                    )
                    await connection.helloCompleted(result, peer: peer)
                    let value = try await body(connection, result)
                    await connection.close(reason: "client finished")
                    try await group.waitForAll()
                    return value
                } catch {
                    await connection.close(reason: "client stopped: \(error)")
                    group.cancelAll()
                    throw error
                }
            }
        }
    }
}

/// A responder for clients that serve nothing but pings.
public struct NoRequestsResponder: RPCResponder {
    public init() {}
}
