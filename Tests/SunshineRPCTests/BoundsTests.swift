import Foundation
import NIOCore
import NIOPosix
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineTestSupport
import SunshineWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What one peer may cost the others (DESIGN §3.9), tried against a live server.
@Suite(.timeLimit(.minutes(3))) struct BoundsTests {
    /// Raises this process's open-file limit as far as it may go, and says how many sockets the test
    /// can open beside what the server needs for them.
    private func socketBudget(wanted: Int) -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        // Each socket costs two descriptors here (client and server side), plus headroom.
        return min(wanted, (Int(limit.rlim_cur) - 512) / 2)
    }

    /// Finding 11: 4,100 plain TCP sockets that never start TLS held every connection slot, and a
    /// legitimate operator was refused. Unauthenticated connections are bounded per address and in
    /// total, apart from authenticated ones, and the oldest gives way to a newcomer.
    @Test func thousandsOfUnauthenticatedSocketsDoNotLockOutAnOperator() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let count = socketBudget(wanted: 4_100)
        #expect(count >= 1_000, "the machine allows too few open files for this test (\(count))")
        try await withRunningServer(pki: pki) { server, endpoint, _ in
            var sockets: [any Channel] = []
            for _ in 0..<count {
                sockets.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: endpoint.host, port: endpoint.port).get())
            }
            defer { for socket in sockets { socket.close(promise: nil) } }
            try await eventually { server.connections.count <= 512 + 1 }
            let clock = ContinuousClock()
            let started = clock.now
            try await withClient("operator", role: .operator, pki: pki, to: endpoint) { connection, _ in
                _ = try await connection.call(Method.ping, params: PingParams(), returning: EmptyResult.self)
            }
            #expect(clock.now - started < .seconds(10), "the operator got in promptly")
            #expect(server.connections.count <= 512 + 1, "unauthenticated sockets stay within their bound")
        }
    }

    /// "hello.maxFrame is unbounded": a client announcing a 2 GiB frame gets frames of at most 16 MiB.
    @Test func anAnnouncedMaxFrameIsCappedAtSixteenMebibytes() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withRunningServer(pki: pki) { server, endpoint, _ in
            try await withRawClient(to: endpoint, pki: pki, node: "township-01") { client in
                try await client.send(frame: #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1,"node":"township-01","role":"agent","software":"raw","maxFrame":2147483647}}"#)
                #expect(await client.nextIgnoringPings()?["result"] != nil)
                let served = try #require(server.connections.first { $0.peer?.identity.node == "township-01" })
                #expect(served.peerMaxFrame == Frame.maximumMaxFrame)
            }
        }
    }

    /// "Duplicate JSON members are read first-wins where other parsers read last-wins": refused.
    @Test func aFrameWithADuplicateMemberIsAParseErrorAndClosed() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await withTestServer(pki: pki) { endpoint, _ in
            try await withRawClient(to: endpoint, pki: pki, node: "township-01") { client in
                try await client.sendHello(as: "township-01")
                _ = await client.nextIgnoringPings()
                try await client.send(frame: #"{"jsonrpc":"2.0","id":2,"method":"ping","method":"push","params":{}}"#)
                let answer = await client.nextIgnoringPings()
                #expect(answer?.errorReason == "parse_error")
                #expect(answer?.errorMessage?.contains("duplicate member \"method\"") == true)
                #expect(await client.nextIgnoringPings() == nil, "the connection is closed")
            }
        }
    }
}

/// Polls `condition` for up to `seconds`.
private func eventually(seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("the condition did not hold within \(seconds) s")
}

/// A client never waits for ever on a peer that accepts TCP but never speaks TLS.
@Suite(.timeLimit(.minutes(1))) struct ClientHandshakeTests {
    @Test func aServerThatNeverCompletesTLSFailsTheClientAtTheHelloDeadline() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.next().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        var options = RPCClient.Options()
        options.rpc.connection.helloTimeout = .seconds(1)
        let started = ContinuousClock.now
        do {
            try await withClient("township-01", pki: pki, to: Endpoint(host: "127.0.0.1", port: silent.localAddress!.port!), options: options) { _, _ in }
            Issue.record("connected to a server that never spoke TLS")
        } catch {
            #expect("\(error)".contains("did not complete the TLS handshake within 1 s"), "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
