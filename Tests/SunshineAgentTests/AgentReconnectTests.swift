import Foundation
import NIOConcurrencyHelpers
import SunshineAgent
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineTestSupport
import SunshineWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct AgentReconnectTests {
    private struct Silent: RPCResponder {}

    private func server(_ pki: TestPKI, port: Int) throws -> RPCServer {
        var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: port))
        configuration.rpc.heartbeat = .seconds(2)
        return RPCServer(
            configuration: configuration,
            tls: try ClusterTLS.serverContext(NodeCredentials(pki: pki.directory, node: "coordinator")),
            responder: Silent()
        )
    }

    private func waitUntil(_ what: Comment, _ condition: () -> Bool) async throws {
        for _ in 0..<2_000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition(), what)
    }

    @Test func theAgentReconnectsAfterTheCoordinatorComesBack() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let events = NIOLockedValueBox<[AgentService.Event]>([])
        let connections = { events.withLockedValue { $0.filter { if case .connected = $0 { true } else { false } }.count } }
        let retries = { events.withLockedValue { $0.filter { if case .retrying = $0 { true } else { false } }.count } }

        // Each coordinator runs in its own task so it can be stopped and replaced.
        let first = try server(pki, port: 0)
        let firstTask = Task { try await first.run() }
        let port = try await first.localAddress().port!
        var configuration = AgentService.Configuration(node: "township-02", coordinator: Endpoint(host: "127.0.0.1", port: port))
        configuration.backoff = Backoff(base: .milliseconds(20), cap: .milliseconds(100))
        let agent = AgentService(
            configuration: configuration,
            tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki.directory, node: "township-02")),
            store: try SQLiteStore(path: pki.directory.path + "/township-02.sqlite", node: "township-02"),
            events: { event in events.withLockedValue { $0.append(event) } }
        )
        let agentTask = Task { try await agent.run() }
        try await waitUntil("first connection") { connections() == 1 }

        // The coordinator goes away; the agent keeps knocking with backoff.
        firstTask.cancel()
        _ = await firstTask.result
        try await waitUntil("retries while the coordinator is away") { retries() >= 3 }
        #expect(connections() == 1)

        // It comes back on the same address; the agent finds it without being told.
        let second = try server(pki, port: port)
        let secondTask = Task { try await second.run() }
        try await waitUntil("reconnection") { connections() == 2 }
        agentTask.cancel()
        secondTask.cancel()
        _ = await (agentTask.result, secondTask.result)
        let delays = events.withLockedValue { $0.compactMap { if case .retrying(let ms) = $0 { ms } else { nil } } }
        #expect(delays.allSatisfy { (0...100).contains($0) })
    }
}
