import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineTestSupport
import SunshineWire

/// A test responder: records pings and sessions, echoes, and sleeps on request.
final class TestResponder: RPCResponder, @unchecked Sendable {
    struct SleepParams: Codable, Sendable { var ms: Int; var tag: String }
    struct Tagged: Codable, Sendable, Equatable { var tag: String }

    private let lock = NSLock()
    private var _pings: [PingParams] = []
    private var _hellos: [String] = []
    private var _closed = 0

    var pings: [PingParams] { lock.withLock { _pings } }
    var hellos: [String] { lock.withLock { _hellos } }
    var closed: Int { lock.withLock { _closed } }

    func acceptHello(_ hello: HelloParams, from peer: PeerCertificate, on connection: RPCConnection) async throws -> HelloAcceptance {
        lock.withLock { _hellos.append(peer.identity.node) }
        return HelloAcceptance(checkpoint: 42)
    }

    func respond(to method: String, payload: MessagePayload, on connection: RPCConnection) async throws -> any Encodable & Sendable {
        switch method {
        case "sleep":
            let params = try payload.params(as: SleepParams.self)
            try await Task.sleep(for: .milliseconds(params.ms))
            return Tagged(tag: params.tag)
        case "whoami":
            return Tagged(tag: connection.peer?.identity.node ?? "?")
        default:
            throw RPCError.methodNotFound(method)
        }
    }

    func pinged(_ params: PingParams, on connection: RPCConnection) async {
        lock.withLock { _pings.append(params) }
    }

    func connectionClosed(_ connection: RPCConnection) async {
        lock.withLock { _closed += 1 }
    }
}

/// Runs an RPC server on 127.0.0.1, port 0, for the duration of `body`.
func withTestServer<T: Sendable>(
    pki: TestPKI,
    revocations: RevocationList = RevocationList(),
    configure: (inout RPCServer.Configuration) -> Void = { _ in },
    responder: TestResponder = TestResponder(),
    body: @Sendable (Endpoint, TestResponder) async throws -> T
) async throws -> T {
    try await withRunningServer(pki: pki, revocations: revocations, configure: configure, responder: responder) {
        try await body($1, $2)
    }
}

/// Like ``withTestServer(pki:revocations:configure:responder:body:)``, handing `body` the server too,
/// for tests that act on it while it runs.
func withRunningServer<T: Sendable>(
    pki: TestPKI,
    revocations: RevocationList = RevocationList(),
    configure: (inout RPCServer.Configuration) -> Void = { _ in },
    responder: TestResponder = TestResponder(),
    body: @Sendable (RPCServer, Endpoint, TestResponder) async throws -> T
) async throws -> T {
    var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: 0))
    configuration.revocations = revocations
    configure(&configuration)
    let server = RPCServer(
        configuration: configuration,
        tls: try ClusterTLS.serverContext(NodeCredentials(pki: pki.directory, node: "coordinator")),
        responder: responder
    )
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        group.addTask { try await server.run() }
        let address = try await server.localAddress()
        defer { group.cancelAll() }
        return try await body(server, Endpoint(host: "127.0.0.1", port: address.port!), responder)
    }
}

/// Connects as `node` with the real client and runs `body`.
func withClient<T: Sendable>(
    _ node: String,
    role: NodeRole = .agent,
    pki: TestPKI,
    to endpoint: Endpoint,
    options: RPCClient.Options = RPCClient.Options(),
    body: @Sendable (RPCConnection, HelloResult) async throws -> T
) async throws -> T {
    try await RPCClient.withConnection(
        to: endpoint,
        tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki.directory, node: node)),
        hello: HelloParams(node: node, role: role, software: "tests"),
        options: options,
        body: body
    )
}

/// A TLS client that writes raw bytes — any length prefix, any payload — and reads frames back,
/// to play the broken or hostile peer.
struct RawClient {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator

    func send(raw bytes: ByteBuffer) async throws {
        try await outbound.write(bytes)
    }

    func send(frame json: String) async throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(json.utf8.count), endianness: .big)
        buffer.writeString(json)
        try await send(raw: buffer)
    }

    func sendHello(as node: String, role: String = "agent", id: Int = 1) async throws {
        try await send(frame: #"{"jsonrpc":"2.0","id":\#(id),"method":"hello","params":{"protocol":1,"node":"\#(node)","role":"\#(role)","software":"raw","maxFrame":1048576}}"#)
    }

    /// The next frame as a JSON object, or nil once the server has closed the connection.
    mutating func next() async -> [String: Any]? {
        guard let frame = try? await frames.next() else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(frame.readableBytesView))) as? [String: Any]
    }

    /// Skips the server's heartbeat pings and returns the next other frame.
    mutating func nextIgnoringPings() async -> [String: Any]? {
        while let frame = await next() {
            if frame["method"] as? String == "ping" { continue }
            return frame
        }
        return nil
    }
}

/// Connects a ``RawClient`` with `node`'s certificate from `pki` (no certificate when `node` is
/// nil) and runs `body` with it. A watchdog closes the connection after `watchdog`, so a test
/// never waits forever for a frame.
func withRawClient<T>(
    to endpoint: Endpoint,
    pki: TestPKI,
    node: String?,
    watchdog: TimeAmount = .seconds(20),
    body: (inout RawClient) async throws -> T
) async throws -> T {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.directory.caCertificatePath))
    tls.minimumTLSVersion = .tlsv13
    if let node {
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(pki.directory.certificatePath(for: node)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki.directory.keyPath(for: node), format: .pem))
    }
    let context = try NIOSSLContext(configuration: tls)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: endpoint.host, port: endpoint.port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrame: 16 << 20)))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let raw = channel.channel
    raw.eventLoop.scheduleTask(in: watchdog) { raw.close(promise: nil) }
    return try await channel.executeThenClose { inbound, outbound in
        var client = RawClient(channel: raw, outbound: outbound, frames: inbound.makeAsyncIterator())
        return try await body(&client)
    }
}

extension Dictionary where Key == String, Value == Any {
    var errorCode: Int? { (self["error"] as? [String: Any])?["code"] as? Int }
    var errorMessage: String? { (self["error"] as? [String: Any])?["message"] as? String }
    var errorReason: String? { ((self["error"] as? [String: Any])?["data"] as? [String: Any])?["reason"] as? String }
    var idIsNull: Bool { self["id"] is NSNull }
}
