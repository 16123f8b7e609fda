import Logging
import NIOSSL
import ServiceLifecycle
import SunshineRPC
import SunshineWire

/// A township's agent: keeps one connection to the coordinator alive for as long as it runs,
/// reconnecting forever with backoff, and stops cleanly (saying `bye`) on SIGINT/SIGTERM.
public final class AgentService: Service, Sendable {
    public struct Configuration: Sendable {
        public var node: String
        public var coordinator: Endpoint
        public var software = "sunshine-agent/1"
        public var backoff = Backoff()
        public var client = RPCClient.Options()

        public init(node: String, coordinator: Endpoint) {
            self.node = node
            self.coordinator = coordinator
        }
    }

    /// What happened to one connection attempt, for logs and tests.
    public enum Event: Sendable, Equatable {
        case connected(session: String, heartbeatMs: Int, checkpoint: Int64)
        case disconnected(reason: String)
        case retrying(afterMilliseconds: Int64)
    }

    public let configuration: Configuration
    private let tls: NIOSSLContext
    private let logger: Logger
    private let events: (@Sendable (Event) -> Void)?

    public init(
        configuration: Configuration,
        tls: NIOSSLContext,
        logger: Logger = Logger(label: "sunshine.agent"),
        events: (@Sendable (Event) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.tls = tls
        self.logger = logger
        self.events = events
    }

    public func run() async throws {
        var backoff = configuration.backoff
        let hello = HelloParams(node: configuration.node, role: "agent", software: configuration.software, maxFrame: configuration.client.rpc.maxFrame)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await RPCClient.withConnection(
                    to: configuration.coordinator,
                    tls: tls,
                    hello: hello,
                    options: configuration.client,
                    logger: logger
                ) { connection, result in
                    self.logger.info("connected to the coordinator at \(self.configuration.coordinator) (session \(result.session), checkpoint \(result.checkpoint))")
                    self.events?(.connected(session: result.session, heartbeatMs: result.heartbeatMs, checkpoint: result.checkpoint))
                    await withGracefulShutdownHandler {
                        await connection.waitUntilClosed()
                    } onGracefulShutdown: {
                        connection.beginClose(reason: "the agent is shutting down")
                    }
                }
                // The session was established, so the next failure starts from the base delay.
                backoff.reset()
                events?(.disconnected(reason: "closed"))
            } catch {
                logger.warning("not connected to \(configuration.coordinator): \(ErrorSentence.describe(error))")
                events?(.disconnected(reason: ErrorSentence.describe(error)))
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            let delay = backoff.next()
            let milliseconds = Backoff.nanoseconds(delay) / 1_000_000
            events?(.retrying(afterMilliseconds: milliseconds))
            try? await Task.sleep(for: delay)
        }
    }
}
