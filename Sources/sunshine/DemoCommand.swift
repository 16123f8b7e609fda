import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SunshineAgent
import SunshineCoordinator
import SunshinePKI
import SunshineRPC

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a county on this machine: certificates, a coordinator and township agents on loopback."
    )

    @Option(help: "Directory for the demo's certificates (created if missing).")
    var dir = "county"

    @Option(help: "How many township agents to run.")
    var townships = 3

    @Option(help: "How long to run before printing what the coordinator saw, in seconds.")
    var seconds = 5

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...17).contains(townships) else { throw ValidationError("--townships must be between 1 and 17.") }
        guard (1...3_600).contains(seconds) else { throw ValidationError("--seconds must be between 1 and 3600.") }
    }

    func run() async throws {
        if logging.logLevel == nil && Environment.value("SUNSHINE_LOG_LEVEL") == nil {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .warning
                return handler
            }
        } else {
            try logging.bootstrap()
        }
        let pki = PKIDirectory(path: (dir as NSString).appendingPathComponent("pki"))
        if FileManager.default.fileExists(atPath: pki.caCertificatePath) {
            print("Using the certificates in \(pki.path).")
        } else {
            _ = try runPKI { try pki.initialize(townships: 17, coordinatorHosts: ["localhost", "127.0.0.1"]) }
            print("Created a cluster CA and certificates for the coordinator, 17 townships and an operator in \(pki.path).")
        }

        var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: 0))
        configuration.rpc.heartbeat = .milliseconds(1_000)
        let coordinator = CoordinatorService(
            configuration: configuration,
            tls: try tlsContext { try ClusterTLS.serverContext(NodeCredentials(pki: pki, node: "coordinator")) }
        )
        let coordinatorGroup = ServiceGroup(
            configuration: .init(services: [.init(service: coordinator)], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sunshine.demo"))
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await coordinatorGroup.run() }
            let address = try await coordinator.server.localAddress()
            let endpoint = Endpoint(host: "127.0.0.1", port: address.port ?? 0)
            print("Coordinator listening on \(endpoint) (TLS 1.3, client certificates required, heartbeat 1 s).")

            let agents = try NodeName.townships(townships).map { township in
                AgentService(
                    configuration: .init(node: township, coordinator: endpoint),
                    tls: try tlsContext { try ClusterTLS.clientContext(NodeCredentials(pki: pki, node: township)) },
                    events: { event in
                        if case .connected(let session, let heartbeatMs, _) = event {
                            print("  \(township) said hello: session \(session), heartbeat every \(heartbeatMs) ms")
                        }
                    }
                )
            }
            let agentGroup = ServiceGroup(
                configuration: .init(services: agents.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sunshine.demo"))
            )
            tasks.addTask {
                try await agentGroup.run()
                await coordinatorGroup.triggerGracefulShutdown()
            }
            print("Started \(townships) township agents; they keep their connections alive with pings for \(seconds) s…")
            try await Task.sleep(for: .seconds(seconds))

            print("\nWhat the coordinator sees:")
            print("  node          role    online  last heard")
            let now = Date()
            for presence in coordinator.sessions.all {
                let ago = String(format: "%.1f s ago", now.timeIntervalSince(presence.lastSeen))
                print("  \(presence.node.padding(toLength: 13, withPad: " ", startingAt: 0)) \(presence.role.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(presence.online ? "yes" : "no ")     \(ago)")
            }
            await agentGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
            print("\nAll agents said bye and the coordinator stopped.")
        }
    }

    private func tlsContext<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TLSSetupError {
            throw CommandFailure(error.description)
        }
    }
}
