import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SunshineAgent
import SunshineModel
import SunshineRPC

struct AgentCommand: AsyncParsableCommand, SettingFlags {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run a township's agent: keep in sync with the coordinator, reconnecting forever.",
        discussion: """
            Every setting is a flag, a SUNSHINE_… environment variable and a key of the --config file; a flag wins \
            over the environment, which wins over the file (deploy/agent.example.json shows every key). \
            SIGHUP is logged and ignored (restart the agent to apply new settings); SIGTERM answers the pushes in \
            flight and says bye.
            """
    )

    @OptionGroup var file: ConfigFileOptions

    @Option(help: "This township's node id, e.g. township-03 (env SUNSHINE_NODE).")
    var node: String?

    @Option(help: "The coordinator's HOST:PORT (env SUNSHINE_COORDINATOR; default 127.0.0.1:7420).")
    var coordinator: String?

    @OptionGroup var credentials: CredentialOptions

    @OptionGroup var storage: DataOptions

    @Option(
        help: "The largest frame accepted from the coordinator, in bytes (env SUNSHINE_MAX_FRAME; default 1048576).")
    var maxFrame: String?

    @Option(help: "Records per push at most (env SUNSHINE_BATCH_RECORDS; default \(Replication.maxPushRecords)).")
    var batchRecords: String?

    @Option(
        help:
            "Bytes of records per push at most, within the coordinator's maxFrame (env SUNSHINE_BATCH_BYTES)."
    )
    var batchBytes: String?

    @Option(help: "Pushes awaiting the coordinator's answer at once (env SUNSHINE_BATCH_WINDOW; default 4).")
    var batchWindow: String?

    @OptionGroup var logging: LoggingOptions

    var flags: [Setting: String?] {
        [
            .node: node, .coordinator: coordinator, .maxFrame: maxFrame, .batchRecords: batchRecords,
            .batchBytes: batchBytes,
            .batchWindow: batchWindow,
        ]
    }

    /// Every setting of the command: its flags, then `environment`, then its configuration file.
    func settings(environment: [String: String] = ProcessInfo.processInfo.environment) -> Settings {
        Settings(file, self, credentials, storage, logging, environment: environment)
    }

    func run() async throws {
        HangupService.ignoreUntilHandled()
        let settings = settings()
        try LoggingOptions.bootstrap(settings)
        let configuration = try Self.configuration(settings)
        let credentials = try CredentialOptions.resolve(node: configuration.node, settings)
        let tls = try ClusterTLS.clientContext(credentials)
        try CredentialOptions.requireIdentity(
            node: configuration.node, role: .agent, in: credentials, command: "agent --node \(configuration.node)")
        var logger = Logger(label: "sunshine.agent")
        logger[metadataKey: "node"] = "\(configuration.node)"
        let store = try DataOptions.openStore(node: configuration.node, settings)
        logger.info(
            "agent \(configuration.node) started: coordinator \(configuration.coordinator), data in \(store.path)")
        let agent = AgentService(configuration: configuration, tls: tls, store: store, logger: logger)
        // The agent reads its settings and certificates once; SIGHUP (a closed terminal, or a
        // reload out of habit) is noted and changes nothing. A new setting needs a restart.
        let hangup = HangupService { [logger] in
            logger.notice("SIGHUP ignored: the agent has nothing to reload; restart it to apply new settings or certificates")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: agent), .init(service: hangup)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
        )
        try await group.run()
    }

    /// The agent's configuration from `settings`: every setting but the credentials and the store.
    static func configuration(_ settings: Settings) throws -> AgentService.Configuration {
        let node = try settings.nodeName(
            .node, missing: "Say which township this is with --node (for example --node township-03).")
        var configuration = AgentService.Configuration(
            node: node, coordinator: try settings.endpoint(.coordinator, default: "127.0.0.1:7420"))
        configuration.client.rpc.maxFrame = try settings.maxFrame()
        configuration.sync.batch = try settings.number(
            .batchRecords, default: configuration.sync.batch, in: 1...Replication.maxPushRecords, unit: "records")
        if try settings.isSet(.batchBytes) {
            configuration.batchBytes = try settings.number(
                .batchBytes, default: 0, in: 16_384...16_777_216, unit: "bytes")
        }
        configuration.sync.window = try settings.number(
            .batchWindow, default: configuration.sync.window, in: 1...32, unit: "pushes")
        return configuration
    }
}
