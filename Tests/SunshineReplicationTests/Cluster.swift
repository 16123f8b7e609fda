import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SunshineAgent
import SunshineCoordinator
import SunshineCounty
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import SunshineWire

/// A county in one test process: a PKI, a data directory, a coordinator that can be stopped and
/// restarted on the same port, and agents with their own stores.
final class Cluster: Sendable {
    let pki: TestPKI
    let directory: String

    init(townships: Int = 3) throws {
        pki = try TestPKI(townships: townships)
        directory = pki.directory.path + "/data"
    }

    deinit { pki.remove() }

    func store(_ node: String, file: String? = nil) throws -> SQLiteStore {
        try SQLiteStore(path: "\(directory)/\(file ?? node).sqlite", node: node)
    }

    /// A coordinator running in its own task until stopped.
    final class Coordinator: Sendable {
        let service: CoordinatorService
        let endpoint: Endpoint
        let task: Task<Void, any Error>

        init(service: CoordinatorService, endpoint: Endpoint, task: Task<Void, any Error>) {
            self.service = service
            self.endpoint = endpoint
            self.task = task
        }

        var county: County { service.county }

        /// The county's checkpoint of `node`'s newest store.
        func checkpoint(_ node: String) async throws -> Int64 {
            try await county.status().townships.first { $0.node == node }?.checkpoint ?? 0
        }

        func stop() async {
            task.cancel()
            _ = await task.result
        }
    }

    func startCoordinator(
        store: any ReplicaStore, port: Int = 0, heartbeat: TimeAmount = .seconds(2), configure: (inout RPCServer.Configuration) -> Void = { _ in }
    ) async throws -> Coordinator {
        var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: port))
        configuration.rpc.heartbeat = heartbeat
        configure(&configuration)
        let service = CoordinatorService(
            configuration: configuration,
            tls: try ClusterTLS.serverContext(NodeCredentials(pki: pki.directory, node: "coordinator")),
            store: store
        )
        let task = Task { try await service.run() }
        let address = try await service.server.localAddress()
        return Coordinator(service: service, endpoint: Endpoint(host: "127.0.0.1", port: address.port!), task: task)
    }

    /// An agent running in its own task until stopped (or cancelled abruptly, as a crash).
    final class Agent: Sendable {
        let service: AgentService
        let events = NIOLockedValueBox<[AgentService.Event]>([])
        private let task = NIOLockedValueBox<Task<Void, any Error>?>(nil)

        init(makeService: (@escaping @Sendable (AgentService.Event) -> Void) throws -> AgentService) rethrows {
            let events = self.events
            service = try makeService { event in events.withLockedValue { $0.append(event) } }
        }

        var township: Township { service.township }

        func start() {
            let service = self.service
            task.withLockedValue { $0 = Task { try await service.run() } }
        }

        func stop() async {
            let running = task.withLockedValue { $0.take() }
            running?.cancel()
            _ = await running?.result
        }

        var pushes: Int { events.withLockedValue { $0.filter { if case .synced(.pushed) = $0 { true } else { false } }.count } }
    }

    func agent(
        _ node: String, store: any ReplicaStore, coordinator endpoint: Endpoint, batch: Int = 200, window: Int = 4, maxFrame: Int = 1_048_576,
        outboxPoll: Duration = .milliseconds(200), watchedOutboxPoll: Duration = .seconds(5)
    ) throws -> Agent {
        try Agent { events in
            var configuration = AgentService.Configuration(node: node, coordinator: endpoint)
            configuration.client.rpc.maxFrame = maxFrame
            configuration.outboxPoll = outboxPoll
            configuration.watchedOutboxPoll = watchedOutboxPoll
            configuration.backoff = Backoff(base: .milliseconds(10), cap: .milliseconds(200))
            configuration.sync.batch = batch
            configuration.sync.window = window
            return AgentService(
                configuration: configuration,
                tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki.directory, node: node)),
                store: store,
                events: events
            )
        }
    }

    /// Runs `body` with an operator's (or any node's) RPC connection to the coordinator.
    func connect<T: Sendable>(
        as node: String = "operator", role: NodeRole = .operator, to endpoint: Endpoint,
        body: @Sendable (RPCConnection) async throws -> T
    ) async throws -> T {
        try await RPCClient.withConnection(
            to: endpoint,
            tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki.directory, node: node)),
            hello: HelloParams(node: node, role: role, software: "tests")
        ) { connection, _ in try await body(connection) }
    }
}

/// Polls `condition` until it holds or `seconds` pass; records an issue naming `what` if not.
func eventually(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw EventuallyFailed(what: what)
}

struct EventuallyFailed: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting until \(what)" }
}

extension ReplicaStore {
    /// How many versions of each key this store holds.
    func versionCounts(kind: RecordKind) async throws -> [String: Int] {
        try await read { reader in
            var counts: [String: Int] = [:]
            var after: Int64 = 0
            while true {
                let page = try reader.changes(after: after, for: nil, limit: 5_000)
                guard let last = page.last else { break }
                for version in page where version.record.kind == kind { counts[version.record.key, default: 0] += 1 }
                after = last.seq
            }
            return counts
        }
    }
}

