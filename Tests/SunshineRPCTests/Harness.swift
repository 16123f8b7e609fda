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

extension Dictionary where Key == String, Value == Any {
    var errorCode: Int? { (self["error"] as? [String: Any])?["code"] as? Int }
    var errorMessage: String? { (self["error"] as? [String: Any])?["message"] as? String }
    var errorReason: String? { ((self["error"] as? [String: Any])?["data"] as? [String: Any])?["reason"] as? String }
    var idIsNull: Bool { self["id"] is NSNull }
}
