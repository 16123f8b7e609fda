import Logging
import NIOSSL
import ServiceLifecycle
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineTownship
import SunshineWire
import Synchronization

/// A township's agent: keeps the township's store in sync with the coordinator for as long as it
/// runs, reconnecting forever with backoff, and stops cleanly on SIGINT/SIGTERM: the pushes in
/// flight are answered first, then it says `bye`.
/// Clerks write to the store through ``Township`` whether or not the agent runs.
public final class AgentService: Service, Sendable {
    public struct Configuration: Sendable {
        public var node: String
        public var coordinator: Endpoint
        public var software = "sunshine-agent/1"
        public var backoff = Backoff()
        public var client = RPCClient.Options()
        public var sync = TownshipSync.Options()
        /// Bytes of records per push at most; nil for as many as the coordinator's `maxFrame`
        /// allows. A smaller value never raises that bound, only lowers it.
        public var batchBytes: Int?
        /// Whether to watch the store's file for commits from other processes (a clerk's command),
        /// so that a new record is sent within milliseconds (``StoreWatcher``, Linux inotify).
        public var watchStore = true
        /// How often to look for records a clerk wrote from another process when the store cannot
        /// be watched (not a file, or no inotify).
        public var outboxPoll: Duration = .milliseconds(200)
        /// How often to look anyway while the store is watched: a safety net, never the path a
        /// ballot waits on.
        public var watchedOutboxPoll: Duration = .seconds(5)
        /// A pull even without `changed`, in case a notification was lost with a connection.
        public var pullFallback: Duration = .seconds(30)

        public init(node: String, coordinator: Endpoint) {
            self.node = node
            self.coordinator = coordinator
        }
    }

    /// What happened, for logs, the demo and tests.
    public enum Event: Sendable, Equatable {
        case connected(session: String, heartbeatMs: Int, checkpoint: Int64)
        case synced(TownshipSync.Event)
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
        store: any ReplicaStore,
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
        // A new actor for this run: a store restored from a backup, or a rolled-back VM, never
        // writes under counters its earlier self used (DESIGN §3.6).
        try await township.store.write { try $0.beginIncarnation() }
        var backoff = configuration.backoff
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let ended = await session()
            let stopping = Task.isCancelled || Task.isShuttingDownGracefully
            let reason = ended.error.map(ErrorSentence.describe) ?? "closed"
            if stopping {
                logger.info("stopped: \(reason)")
                break
            }
            if ended.error != nil { logger.warning("not connected to \(configuration.coordinator): \(reason)") }
            events?(.disconnected(reason: reason))
            // A session that got past hello starts the delays over; failures to connect grow them.
            if ended.established { backoff.reset() }
            let delay = backoff.next()
            events?(.retrying(afterMilliseconds: Backoff.nanoseconds(delay) / 1_000_000))
            try? await Task.sleep(for: delay)
        }
    }

    /// One connection: hello, then sync until something fails. Says whether hello succeeded, and
    /// what ended the session.
    private func session() async -> (established: Bool, error: (any Error)?) {
        let configuration = self.configuration
        let township = self.township
        let hello: HelloParams
        do {
            let (identity, pulled) = try await township.store.read { (try $0.identity(), try $0.pullPosition()) }
            hello = HelloParams(
                node: configuration.node, role: .agent, software: configuration.software, maxFrame: configuration.client.rpc.maxFrame,
                store: identity.storeID, pulled: PulledPosition(upto: pulled.upto, head: pulled.head)
            )
        } catch {
            return (false, error)
        }
        var options = configuration.client
        options.pingReport = {
            guard let outbox = try? await township.outbox() else { return PingParams() }
            return PingParams(seq: outbox.latestSeq, outbox: outbox.unsent)
        }
        let (pull, wakePull) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        defer { wakePull.finish() }
        let established = Established()
        do {
            try await RPCClient.withConnection(
                to: configuration.coordinator,
                tls: tls,
                hello: hello,
                options: options,
                responder: ChangedResponder(wake: wakePull),
                logger: logger
            ) { connection, result in
                established.set()
                try await self.sync(on: connection, from: result, pull: (pull, wakePull))
            }
            return (established.value, nil)
        } catch {
            return (established.value, error)
        }
    }

    /// Runs the township's sync over an established connection until it fails or the agent stops.
    private func sync(
        on connection: RPCConnection, from hello: HelloResult, pull: (signals: AsyncStream<Void>, wake: AsyncStream<Void>.Continuation)
    ) async throws {
        let configuration = self.configuration
        logger.info("connected to the coordinator at \(configuration.coordinator) (session \(hello.session), checkpoint \(hello.checkpoint))")
        events?(.connected(session: hello.session, heartbeatMs: hello.heartbeatMs, checkpoint: hello.checkpoint))
        let report = events
        let sync = TownshipSync(
            township: township, link: RPCCountyLink(connection: connection), options: configuration.sync, logger: logger,
            events: { event in report?(.synced(event)) }
        )
        let (outbox, wakeOutbox) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        defer { wakeOutbox.finish() }
        let watcher = configuration.watchStore
            ? (township.store as? SQLiteStore).flatMap { store in StoreWatcher.start(path: store.path) { wakeOutbox.yield() } }
            : nil
        defer { watcher?.stop() }
        let outboxPoll = watcher == nil ? configuration.outboxPoll : configuration.watchedOutboxPoll
        let start = SessionStart(
            checkpoint: hello.checkpoint, checkpointHead: hello.checkpointHead, pullFrom: hello.pullFrom,
            batchBytes: min(configuration.batchBytes ?? .max, connection.peerMaxFrame - RPCCountyLink.batchOverhead)
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sync.run(start, outbox: outbox, pull: pull.signals) }
            group.addTask { try await Self.tick(wakeOutbox, every: outboxPoll) }
            group.addTask {
                pull.wake.yield()
                try await Self.tick(pull.wake, every: configuration.pullFallback)
            }
            group.addTask {
                try await connection.waitUntilClosed()
                throw RPCCallError.connectionClosed(reason: "the connection closed")
            }
            group.addTask {
                // On SIGTERM: the pushes in flight are answered, nothing new is sent, then bye.
                try await gracefulShutdown()
                await connection.drain(reason: "the agent is shutting down")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Yields to `wake` every `interval` until cancelled.
    private static func tick(_ wake: AsyncStream<Void>.Continuation, every interval: Duration) async throws {
        while true {
            try await Task.sleep(for: interval)
            wake.yield()
        }
    }
}

/// Whether a session got past hello, set from inside the connection's body.
private final class Established: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var value: Bool { flag.withLock { $0 } }
}

/// Wakes the township's puller when the coordinator says `changed`.
struct ChangedResponder: RPCResponder {
    let wake: AsyncStream<Void>.Continuation

    func receive(notification method: String, payload: MessagePayload, on connection: RPCConnection) async {
        if method == Method.changed { wake.yield() }
    }
}
