import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SunshineCoordinator
import SunshinePKI
import SunshineRPC

struct CoordinatorCommand: AsyncParsableCommand, SettingFlags {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the county's coordinator: the TLS server agents and operators connect to.",
        discussion: """
            Every setting is a flag, a SUNSHINE_… environment variable and a key of the --config file; a flag wins \
            over the environment, which wins over the file (deploy/coordinator.example.json shows every key). \
            SIGHUP re-reads the revocation list; SIGTERM answers the pushes in progress and says bye.
            """
    )

    @OptionGroup var file: ConfigFileOptions

    @Option(help: "HOST:PORT to listen on (env SUNSHINE_LISTEN; default 127.0.0.1:7420).")
    var listen: String?

    @Option(help: "This node's id in the PKI directory (env SUNSHINE_NODE; default coordinator).")
    var node: String?

    @OptionGroup var credentials: CredentialOptions

    @OptionGroup var storage: DataOptions

    @Option(help: "Revoked certificates' serials or SHA-256 fingerprints, re-read on SIGHUP (env SUNSHINE_REVOKED).")
    var revoked: String?

    @Option(help: "Heartbeat interval announced to clients, in milliseconds (env SUNSHINE_HEARTBEAT_MS; default 5000).")
    var heartbeatMs: String?

    @Option(help: "The largest frame accepted from a client, in bytes (env SUNSHINE_MAX_FRAME; default 1048576).")
    var maxFrame: String?

    @OptionGroup var logging: LoggingOptions

    var flags: [Setting: String?] {
        [.listen: listen, .node: node, .revoked: revoked, .heartbeatMs: heartbeatMs, .maxFrame: maxFrame]
    }

    /// Every setting of the command: its flags, then `environment`, then its configuration file.
    func settings(environment: [String: String] = ProcessInfo.processInfo.environment) -> Settings {
        Settings(file, self, credentials, storage, logging, environment: environment)
    }

    func run() async throws {
        HangupService.ignoreUntilHandled()
        let settings = settings()
        try LoggingOptions.bootstrap(settings)
        let node = try settings.nodeName(.node, default: "coordinator", missing: "")
        var configuration = try Self.configuration(settings)
        let credentials = try CredentialOptions.resolve(node: node, settings)
        let tls = try ClusterTLS.serverContext(credentials)
        try CredentialOptions.requireIdentity(
            node: node, role: .coordinator, in: credentials,
            command: node == "coordinator" ? "coordinator" : "coordinator --node \(node)")
        let revokedPath = try settings.readableFile(.revoked, what: "one revoked serial or fingerprint per line")
        if let revokedPath { configuration.revocations = try RevocationList(contentsOf: revokedPath) }
        let listen = configuration.listen
        let logger = Logger(label: "sunshine.coordinator")
        let store = try DataOptions.openStore(node: node, settings)
        let coordinator = CoordinatorService(configuration: configuration, tls: tls, store: store, logger: logger)
        let hangup = HangupService { [server = coordinator.server] in
            guard let revokedPath else {
                logger.notice("SIGHUP ignored: no revocation list to re-read (start with --revoked FILE to have one)")
                return
            }
            RevocationReload.reload(path: revokedPath, server: server, logger: logger)
        }
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: coordinator), .init(service: hangup),
        ]
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        let revocations = configuration.revocations
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let address = try await coordinator.server.localAddress()
                let revoked = revocations.serials.count + revocations.fingerprints.count
                let host = "\(address.ipAddress ?? listen.host):\(address.port ?? listen.port)"
                let list = revoked == 0 ? "" : " (\(revoked) revoked certificates)"
                logger.notice("listening on \(host)\(list), data in \(store.path)")
            }
            try await tasks.waitForAll()
        }
    }
}

extension CoordinatorCommand {
    /// The server's configuration from `settings`: the address, the heartbeat and the frame limit.
    static func configuration(_ settings: Settings) throws -> RPCServer.Configuration {
        var configuration = RPCServer.Configuration(listen: try settings.endpoint(.listen, default: "127.0.0.1:7420"))
        let heartbeatMs = try settings.number(.heartbeatMs, default: 5_000, in: 100...600_000, unit: "milliseconds")
        configuration.rpc.heartbeat = .milliseconds(Int64(heartbeatMs))
        configuration.rpc.maxFrame = try settings.maxFrame()
        return configuration
    }
}

/// Re-reads the revocation list when the coordinator gets SIGHUP, so that a lost laptop's
/// certificate is refused, and its open connection closed, without restarting the coordinator.
/// A list that cannot be read leaves the one in force as it is.
private enum RevocationReload {
    static func reload(path: String, server: RPCServer, logger: Logger) {
        do {
            let list = try RevocationList(contentsOf: path)
            let closed = server.reloadRevocations(list)
            let revoked = list.serials.count + list.fingerprints.count
            let connections = closed == 1 ? "connection" : "connections"
            logger.notice("reloaded \(path): \(revoked) revoked certificates, \(closed) open \(connections) closed")
        } catch {
            logger.error("kept the revocation list in force: \(error)")
        }
    }
}
