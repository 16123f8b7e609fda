import Logging
import NIOSSL
import ServiceLifecycle
import SunshineCounty
import SunshineRPC
import SunshineStore

/// The county's coordinator: the TLS listener in front of ``County``. It accepts agents and
/// operators whose certificates chain to the cluster CA, hands their requests to the county's
/// core, and tells agents when something new is meant for them.
public final class CoordinatorService: Service, Sendable {
    public let county: County
    public let server: RPCServer

    public init(
        configuration: RPCServer.Configuration,
        tls: NIOSSLContext,
        store: any ReplicaStore,
        logger: Logger = Logger(label: "sunshine.coordinator")
    ) {
        let county = County(store: store)
        self.county = county
        self.server = RPCServer(
            configuration: configuration,
            tls: tls,
            responder: CoordinatorResponder(county: county, subscribers: Subscribers(), logger: logger),
            logger: logger
        )
    }

    public func run() async throws {
        // A new actor for this run, as every long-running node takes: a coordinator restored from a
        // backup or a rolled-back VM never writes under counters its earlier self used (DESIGN §3.6).
        try await county.store.write { try $0.beginIncarnation() }
        try await server.run()
    }
}
