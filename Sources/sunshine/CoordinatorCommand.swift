import ArgumentParser
import Logging
import ServiceLifecycle
import SunshineCoordinator
import SunshinePKI
import SunshineRPC

struct CoordinatorCommand: AsyncParsableCommand, SettingFlags {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the county's coordinator: the TLS server agents and operators connect to."
    )

    @Option(help: "HOST:PORT to listen on (env SUNSHINE_LISTEN; default 127.0.0.1:7420).")
    var listen: String?

    @Option(help: "This node's id in the PKI directory (env SUNSHINE_NODE; default coordinator).")
    var node: String?

    @OptionGroup var credentials: CredentialOptions

    @OptionGroup var storage: DataOptions

    @Option(help: "A revocation list: certificate serials or SHA-256 fingerprints, one per line (env SUNSHINE_REVOKED).")
    var revoked: String?

    @Option(help: "Heartbeat interval announced to clients, in milliseconds (env SUNSHINE_HEARTBEAT_MS; default 5000).")
    var heartbeatMs: String?

    @OptionGroup var logging: LoggingOptions

    var flags: [Setting: String?] { [.listen: listen, .node: node, .revoked: revoked, .heartbeatMs: heartbeatMs] }

    func run() async throws {
        let settings = Settings(self, credentials, storage, logging)
        try LoggingOptions.bootstrap(settings)
        let listen = try settings.endpoint(.listen, default: "127.0.0.1:7420")
        let node = try settings.nodeName(.node, default: "coordinator", missing: "")
        let heartbeatMs = try settings.value(.heartbeatMs, default: 5_000, expected: "a number of milliseconds from 100 to 600000") { text in
            Int(text).flatMap { (100...600_000).contains($0) ? $0 : nil }
        }
        let tls = try ClusterTLS.serverContext(try CredentialOptions.resolve(node: node, settings))
        var configuration = RPCServer.Configuration(listen: listen)
        configuration.rpc.heartbeat = .milliseconds(Int64(heartbeatMs))
        if let path = try settings.string(.revoked) { configuration.revocations = try RevocationList(contentsOf: path) }
        let logger = Logger(label: "sunshine.coordinator")
        let store = try DataOptions.openStore(node: node, settings)
        let coordinator = CoordinatorService(configuration: configuration, tls: tls, store: store, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: coordinator)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        let revocations = configuration.revocations
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let address = try await coordinator.server.localAddress()
                print("coordinator listening on \(address.ipAddress ?? listen.host):\(address.port ?? listen.port)"
                    + (revocations.isEmpty ? "" : " (\(revocations.serials.count + revocations.fingerprints.count) revoked certificates)")
                    + ", data in \(store.path)")
            }
            try await tasks.waitForAll()
        }
    }
}
