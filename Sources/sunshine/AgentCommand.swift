import ArgumentParser
import Logging
import ServiceLifecycle
import SunshineAgent
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore

struct AgentCommand: AsyncParsableCommand {
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

    func run() async throws {
        try logging.bootstrap()
        guard let node = node ?? Environment.value("SUNSHINE_NODE") else {
            throw ValidationError("Say which township this is with --node (for example --node township-03).")
        }
        guard NodeName.isValid(node) else { throw ValidationError(PKIError.invalidNodeName(node).description) }
        let endpoint = try Endpoint.option(coordinator ?? Environment.value("SUNSHINE_COORDINATOR") ?? "127.0.0.1:7420", flag: "--coordinator")
        let credentials = try credentials.resolve(node: node)
        let tls = try oneSentence { try ClusterTLS.clientContext(credentials) }
        var logger = Logger(label: "sunshine.agent")
        logger[metadataKey: "node"] = "\(node)"
        let store = try storage.openStore(node: node)
        let agent = AgentService(configuration: .init(node: node, coordinator: endpoint), tls: tls, store: store, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
