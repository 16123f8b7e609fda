import ArgumentParser
import Logging
import ServiceLifecycle
import SunshineAgent
import SunshineRPC

struct AgentCommand: AsyncParsableCommand, SettingFlags {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run a township's agent: keep in sync with the coordinator, reconnecting forever."
    )

    @Option(help: "This township's node id, e.g. township-03 (env SUNSHINE_NODE).")
    var node: String?

    @Option(help: "The coordinator's HOST:PORT (env SUNSHINE_COORDINATOR; default 127.0.0.1:7420).")
    var coordinator: String?

    @OptionGroup var credentials: CredentialOptions

    @OptionGroup var storage: DataOptions

    @OptionGroup var logging: LoggingOptions

    var flags: [Setting: String?] { [.node: node, .coordinator: coordinator] }

    func run() async throws {
        let settings = Settings(self, credentials, storage, logging)
        try LoggingOptions.bootstrap(settings)
        let node = try settings.nodeName(.node, missing: "Say which township this is with --node (for example --node township-03).")
        let endpoint = try settings.endpoint(.coordinator, default: "127.0.0.1:7420")
        let tls = try ClusterTLS.clientContext(try CredentialOptions.resolve(node: node, settings))
        var logger = Logger(label: "sunshine.agent")
        logger[metadataKey: "node"] = "\(node)"
        let store = try DataOptions.openStore(node: node, settings)
        var configuration = AgentService.Configuration(node: node, coordinator: endpoint)
        configuration.storeFile = store.path
        let agent = AgentService(configuration: configuration, tls: tls, store: store, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
