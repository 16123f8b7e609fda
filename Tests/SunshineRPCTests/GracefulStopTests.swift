import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineTestSupport
import SunshineWire
import Testing

/// A responder whose `slow` requests take a while, saying when each starts and finishes.
private final class SlowResponder: RPCResponder, Sendable {
    struct Params: Codable, Sendable { var ms: Int; var tag: String }
    struct Tagged: Codable, Sendable, Equatable { var tag: String }

    let started: AsyncStream<String>
    private let start: AsyncStream<String>.Continuation
    private let ran = NIOLockedValueBox<[String]>([])
    private let closed = NIOLockedValueBox(0)

    init() {
        (started, start) = AsyncStream.makeStream()
    }

    /// The tags of the requests run to the end.
    var finished: [String] { ran.withLockedValue { $0 } }
    var closedConnections: Int { closed.withLockedValue { $0 } }

    func acceptHello(_ hello: HelloParams, from peer: PeerCertificate, on connection: RPCConnection) async throws
        -> HelloAcceptance
    {
        HelloAcceptance(checkpoint: 0)
    }

    func respond(to method: String, payload: MessagePayload, on connection: RPCConnection) async throws -> any Encodable
        & Sendable
    {
        let params = try payload.params(as: Params.self)
        start.yield(params.tag)
        try await Task.sleep(for: .milliseconds(params.ms))
        ran.withLockedValue { $0.append(params.tag) }
        return Tagged(tag: params.tag)
    }

    func connectionClosed(_ connection: RPCConnection) async {
        closed.withLockedValue { $0 += 1 }
    }
}

/// SIGTERM on either side: the requests in progress are answered, then `bye` (DESIGN §3.3).
@Suite(.timeLimit(.minutes(1)))
struct GracefulStopTests {
    /// Runs a server with `responder` as a service of a `ServiceGroup`, which `body` may shut down.
    private func withServer(
        pki: TestPKI, responder: SlowResponder, body: @Sendable (ServiceGroup, Endpoint) async throws -> Void
    ) async throws {
        let server = RPCServer(
            configuration: RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: 0)),
            tls: try ClusterTLS.serverContext(NodeCredentials(pki: pki.directory, node: "coordinator")),
            responder: responder
        )
        let group = ServiceGroup(services: [server], logger: Logger(label: "tests"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(try await server.localAddress().port)
            defer { tasks.cancelAll() }
            try await body(group, Endpoint(host: "127.0.0.1", port: port))
        }
    }

    @Test func aCoordinatorShuttingDownAnswersThePushInProgressThenSaysBye() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let responder = SlowResponder()
        try await withServer(pki: pki, responder: responder) { group, endpoint in
            try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                let push = try await connection.start(
                    "slow", params: SlowResponder.Params(ms: 600, tag: "push"), returning: SlowResponder.Tagged.self)
                var started = responder.started.makeAsyncIterator()
                #expect(await started.next() == "push")
                await group.triggerGracefulShutdown()
                #expect(try await push.result() == SlowResponder.Tagged(tag: "push"))
                try await connection.waitUntilClosed()
                await #expect(
                    throws: RPCCallError.connectionClosed(
                        reason: "closed by the peer: the coordinator is shutting down")
                ) {
                    _ = try await connection.call(
                        "slow", params: SlowResponder.Params(ms: 0, tag: "late"), returning: SlowResponder.Tagged.self)
                }
            }
        }
        #expect(responder.finished == ["push"])
    }

    @Test func anAgentStoppingWaitsForTheAnswerInFlightAndSendsNothingNew() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let responder = SlowResponder()
        try await withServer(pki: pki, responder: responder) { _, endpoint in
            try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                let push = try await connection.start(
                    "slow", params: SlowResponder.Params(ms: 600, tag: "in flight"),
                    returning: SlowResponder.Tagged.self)
                var started = responder.started.makeAsyncIterator()
                #expect(await started.next() == "in flight")
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { await connection.drain(reason: "the agent is shutting down") }
                    while !connection.isDraining { await Task.yield() }
                    tasks.addTask {
                        await #expect(throws: RPCCallError.self) {
                            _ = try await connection.call(
                                "slow", params: SlowResponder.Params(ms: 0, tag: "new"),
                                returning: SlowResponder.Tagged.self)
                        }
                    }
                    #expect(try await push.result() == SlowResponder.Tagged(tag: "in flight"))
                    try await tasks.waitForAll()
                }
                #expect(connection.isClosed)
            }
        }
        #expect(responder.finished == ["in flight"])
    }
}
