import ArgumentParser
import Logging
import NIOCore
import ServiceLifecycle
import SunshineCoordinator
import SunshinePKI
import SunshineRPC

struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the county's coordinator: the TLS server agents and operators connect to."
    )

    @Option(help: "HOST:PORT to listen on (env SUNSHINE_LISTEN; default 127.0.0.1:7420).")
    var listen: String?

    @Option(help: "This node's id in the PKI directory (env SUNSHINE_NODE).")
    var node: String?

    @OptionGroup var credentials: CredentialOptions

    @OptionGroup var storage: DataOptions

    @Option(help: "A revocation list: certificate serials or SHA-256 fingerprints, one per line (env SUNSHINE_REVOKED).")
    var revoked: String?

    @Option(help: "Heartbeat interval announced to clients, in milliseconds (env SUNSHINE_HEARTBEAT_MS).")
    var heartbeatMs: Int?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let listen = try Endpoint.option(self.listen ?? Environment.value("SUNSHINE_LISTEN") ?? "127.0.0.1:7420", flag: "--listen")
        let node = self.node ?? Environment.value("SUNSHINE_NODE") ?? "coordinator"
        let heartbeatMs = try self.heartbeatMs ?? Environment.value("SUNSHINE_HEARTBEAT_MS").map {
            guard let value = Int($0) else { throw ValidationError("SUNSHINE_HEARTBEAT_MS=\($0) is not a number of milliseconds.") }
            return value
        } ?? 5_000
        guard (100...600_000).contains(heartbeatMs) else {
            throw ValidationError("--heartbeat-ms must be between 100 and 600000.")
        }
        let credentials = try credentials.resolve(node: node)
        let tls = try oneSentence { try ClusterTLS.serverContext(credentials) }
        let revocations = try (revoked ?? Environment.value("SUNSHINE_REVOKED")).map { path in
            try oneSentence { try RevocationList(contentsOf: path) }
        } ?? RevocationList()

        var configuration = RPCServer.Configuration(listen: listen)
        configuration.rpc.heartbeat = .milliseconds(Int64(heartbeatMs))
        let logger = Logger(label: "sunshine.coordinator")
        let store = try storage.openStore(node: node)
        let coordinator = CoordinatorService(configuration: configuration, tls: tls, revocations: revocations, store: store, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: coordinator)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let address = try await coordinator.server.localAddress()
                print("coordinator listening on \(address.ipAddress ?? listen.host):\(address.port ?? listen.port)"
                    + (revocations.isEmpty ? "" : " (\(revocations.serials.count + revocations.fingerprints.count) revoked certificates)")
                    + ", data in \(store.path)")
            }
            do {
                try await tasks.waitForAll()
            } catch let error as RPCServerError {
                throw CommandFailure(error.description)
            }
        }
    }
}
