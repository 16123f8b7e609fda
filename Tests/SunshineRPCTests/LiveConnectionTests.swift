import Foundation
import NIOCore
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineTestSupport
import SunshineWire
import Testing

/// Real TLS 1.3 on loopback, certificates generated in the test.
@Suite(.timeLimit(.minutes(2))) struct LiveConnectionTests {
    @Test func helloAndPingOverMutualTLS() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki) { endpoint, responder in
            try await withClient("township-02", pki: pki, to: endpoint) { connection, hello in
                #expect(hello.node == "coordinator")
                #expect(hello.checkpoint == 42)
                #expect(hello.heartbeatMs == 5_000)
                #expect(hello.maxFrame == Frame.defaultMaxFrame)
                #expect(connection.peer?.identity == (try NodeIdentity(node: "coordinator", role: .coordinator)))
                let result = try await connection.call("ping", params: PingParams(seq: 12, outbox: 3), returning: EmptyResult.self)
                #expect(result == EmptyResult())
                let me = try await connection.call("whoami", params: EmptyResult(), returning: TestResponder.Tagged.self)
                #expect(me.tag == "township-02")
            }
            #expect(responder.hellos == ["township-02"])
            // The client's own heartbeats (no report) may come too, if the test outlives one.
            #expect(responder.pings.filter { $0 != PingParams() } == [PingParams(seq: 12, outbox: 3)])
        }
    }

    @Test func pipelinedRequestsAreAnsweredAsTheyFinish() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki) { endpoint, _ in
            try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                let order = try await withThrowingTaskGroup(of: String.self, returning: [String].self) { group in
                    for (ms, tag) in [(600, "slow"), (10, "fast"), (250, "middle")] {
                        group.addTask {
                            try await connection.call("sleep", params: TestResponder.SleepParams(ms: ms, tag: tag), returning: TestResponder.Tagged.self).tag
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                // Sent slow-first on one connection, answered fastest-first: requests are pipelined.
                #expect(order == ["fast", "middle", "slow"])
            }
        }
    }

    @Test func anUnknownMethodIsMethodNotFoundAndTheConnectionStays() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki) { endpoint, _ in
            try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                await #expect(throws: RPCError.methodNotFound("push")) {
                    _ = try await connection.call("push", params: EmptyResult(), returning: EmptyResult.self)
                }
                _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
            }
        }
    }

    @Test func aCallTimesOutWithoutClosingTheConnection() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki) { endpoint, _ in
            try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                await #expect(throws: RPCCallError.timedOut(method: "sleep", seconds: 0.2)) {
                    _ = try await connection.call(
                        "sleep", params: TestResponder.SleepParams(ms: 3_000, tag: "late"), returning: TestResponder.Tagged.self, timeout: .milliseconds(200)
                    )
                }
                _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
                #expect(!connection.isClosed)
            }
        }
    }

    @Test func heartbeatsKeepAnIdleConnectionAliveAndCarryTheOutbox() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki, configure: { $0.rpc.heartbeat = .milliseconds(1_000) }) { endpoint, responder in
            var options = RPCClient.Options()
            options.pingReport = { PingParams(seq: 7, outbox: 1) }
            try await withClient("township-03", pki: pki, to: endpoint, options: options) { connection, hello in
                #expect(hello.heartbeatMs == 1_000)
                // Idle for several heartbeats: both sides ping, nobody is closed as silent.
                try await Task.sleep(for: .milliseconds(4_500))
                #expect(!connection.isClosed)
            }
            #expect(responder.pings.count >= 2)
            #expect(responder.pings.allSatisfy { $0 == PingParams(seq: 7, outbox: 1) })
        }
    }

    @Test func closingSaysByeAndTheServerSeesIt() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki) { endpoint, responder in
            try await withClient("township-01", pki: pki, to: endpoint) { _, _ in }
            try await withClient("operator", role: .operator, pki: pki, to: endpoint) { _, _ in }
            for _ in 0..<100 where responder.closed < 2 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(responder.closed == 2)
            #expect(responder.hellos == ["township-01", "operator"])
        }
    }

    @Test func interoperatesWithAClientThatIsNotSwift() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki) { endpoint, responder in
            // Python's ssl + socket: its own TLS stack, its own framing code.
            let result = try runProcess("python3", [
                RepositoryFiles.path("scripts/interop-hello.py"),
                "--host", endpoint.host, "--port", String(endpoint.port),
                "--ca", pki.directory.caCertificatePath,
                "--cert", pki.directory.certificatePath(for: "township-03"),
                "--key", pki.directory.keyPath(for: "township-03"),
                "--node", "township-03",
            ])
            #expect(result.status == 0, "\(result.output)")
            let response = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("{") })
            let object = try #require(JSONSerialization.jsonObject(with: Data(response.utf8)) as? [String: Any])
            let hello = try #require(object["result"] as? [String: Any])
            #expect(hello["node"] as? String == "coordinator")
            #expect(hello["checkpoint"] as? Int == 42)
            #expect(result.output.contains("TLSv1.3"))
            #expect(responder.hellos == ["township-03"])
        }
    }
}
