import Logging
import NIOConcurrencyHelpers
import NIOSSL
import ServiceLifecycle
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineWire

/// A township's agent: keeps the township's store in sync with the coordinator for as long as it
/// runs, reconnecting forever with backoff, and stops cleanly (saying `bye`) on SIGINT/SIGTERM.
/// Clerks write to the store through ``Township`` whether or not the agent runs.
public final class AgentService: Service, Sendable {
    public struct Configuration: Sendable {
        public var node: String
        public var coordinator: Endpoint
        public var software = "sunshine-agent/1"
        public var backoff = Backoff()
        public var client = RPCClient.Options()
        /// Records per push, and pushes awaiting their answer at once.
        public var pushBatch = 200
        public var pushWindow = 4

        public init(node: String, coordinator: Endpoint) {
            self.node = node
            self.coordinator = coordinator
        }
    }

    /// What happened, for logs, the demo and tests.
    public enum Event: Sendable, Equatable {
        case connected(session: String, heartbeatMs: Int, checkpoint: Int64)
        case pushed(upto: Int64, accepted: Int, duplicates: Int, conflicts: Int, rejected: Int)
        case pulled(count: Int, upto: Int64)
        case disconnected(reason: String)
        case retrying(afterMilliseconds: Int64)
    }

    public let configuration: Configuration
    public let township: Township
    private let tls: NIOSSLContext
    private let logger: Logger
    private let events: (@Sendable (Event) -> Void)?

    public init(
        configuration: Configuration,
        tls: NIOSSLContext,
        store: ReplicaStore,
        logger: Logger = Logger(label: "sunshine.agent"),
        events: (@Sendable (Event) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.township = Township(store: store)
        self.tls = tls
        self.logger = logger
        self.events = events
    }

    public func run() async throws {
        var backoff = configuration.backoff
        let hello = HelloParams(node: configuration.node, role: "agent", software: configuration.software, maxFrame: configuration.client.rpc.maxFrame)
        var options = configuration.client
        let township = self.township
        options.pingReport = {
            guard let outbox = try? await township.outbox() else { return PingParams() }
            return PingParams(seq: outbox.latestSeq, outbox: outbox.unsent)
        }
        var sessionOptions = SyncSession.Options()
        sessionOptions.batch = configuration.pushBatch
        sessionOptions.window = configuration.pushWindow
        let session = sessionOptions
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (changed, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let established = NIOLockedValueBox(false)
            do {
                try await RPCClient.withConnection(
                    to: configuration.coordinator,
                    tls: tls,
                    hello: hello,
                    options: options,
                    responder: ChangedResponder(wake: wake),
                    logger: logger
                ) { connection, result in
                    self.logger.info("connected to the coordinator at \(self.configuration.coordinator) (session \(result.session), checkpoint \(result.checkpoint))")
                    established.withLockedValue { $0 = true }
                    self.events?(.connected(session: result.session, heartbeatMs: result.heartbeatMs, checkpoint: result.checkpoint))
                    let sync = SyncSession(township: township, connection: connection, changed: changed, wake: wake, options: session, logger: self.logger, events: self.events)
                    try await withGracefulShutdownHandler {
                        try await sync.run(checkpoint: result.checkpoint)
                    } onGracefulShutdown: {
                        connection.beginClose(reason: "the agent is shutting down")
                    }
                }
                events?(.disconnected(reason: "closed"))
            } catch where Task.isCancelled || Task.isShuttingDownGracefully {
                logger.info("stopped: \(ErrorSentence.describe(error))")
                break
            } catch {
                logger.warning("not connected to \(configuration.coordinator): \(ErrorSentence.describe(error))")
                events?(.disconnected(reason: ErrorSentence.describe(error)))
            }
            wake.finish()
            // A session that got past hello starts the delays over; failures to connect grow them.
            if established.withLockedValue({ $0 }) { backoff.reset() }
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            let delay = backoff.next()
            events?(.retrying(afterMilliseconds: Backoff.nanoseconds(delay) / 1_000_000))
            try? await Task.sleep(for: delay)
        }
    }
}

/// Wakes the sync session's puller when the coordinator says `changed`.
struct ChangedResponder: RPCResponder {
    let wake: AsyncStream<Void>.Continuation

    func receive(notification method: String, payload: MessagePayload, on connection: RPCConnection) async {
        if method == Method.changed { wake.yield() }
    }
}
