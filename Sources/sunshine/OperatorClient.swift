import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineWire
import Synchronization

/// `--coordinator HOST:PORT`, an operator's certificate, and `--json`: what every operator command takes.
struct OperatorOptions: ParsableArguments, SettingFlags {
    @Option(help: "The coordinator's HOST:PORT (env SUNSHINE_COORDINATOR; default 127.0.0.1:7420).")
    var coordinator: String?

    @Option(help: "The operator's node id in the PKI directory (env SUNSHINE_OPERATOR; default operator).")
    var node: String?

    @OptionGroup var credentials: CredentialOptions

    @Flag(help: "Print the coordinator's answer as JSON (shapes in proto-schemas/), for scripts.")
    var json = false

    var flags: [Setting: String?] { [.coordinator: coordinator, .operatorNode: node] }

    /// Where to connect and as whom: the certificate is checked to be an operator's before anything is sent.
    func operatorClient(for command: String) throws -> OperatorClient {
        let settings = Settings(self, credentials)
        let node = try settings.nodeName(.operatorNode, default: "operator", missing: "")
        let endpoint = try settings.endpoint(.coordinator, default: "127.0.0.1:7420")
        let paths = try CredentialOptions.resolve(node: node, settings)
        let tls = try ClusterTLS.clientContext(paths)
        let identity = try OperatorClient.operatorIdentity(in: paths.certificatePath, command: command)
        return OperatorClient(endpoint: endpoint, tls: tls, identity: identity)
    }

    /// Connects as the operator, calls one method, and returns its result.
    func call<Params: Encodable & Sendable, Result: Codable & Sendable>(
        _ method: String, _ params: Params, returning: Result.Type, command: String
    ) async throws -> Result {
        try await operatorClient(for: command).withConnection { connection in
            try await connection.call(method, params: params, returning: Result.self)
        }
    }
}

/// An operator's way to the coordinator (DESIGN §3.3): the address, the TLS context and the
/// identity its certificate grants; it turns every failure into the one sentence a person reads.
struct OperatorClient: Sendable {
    var endpoint: Endpoint
    var tls: NIOSSLContext
    var identity: NodeIdentity

    /// Connects, says hello, runs `body`, and says bye. `responder` hears the coordinator's
    /// notifications (the dashboard's `changed`).
    func withConnection<T: Sendable>(
        responder: any RPCResponder = NoRequestsResponder(),
        _ body: @Sendable @escaping (RPCConnection) async throws -> T
    ) async throws -> T {
        let established = ConnectionProgress()
        do {
            return try await RPCClient.withConnection(
                to: endpoint, tls: tls,
                hello: HelloParams(node: identity.node, role: .operator, software: "sunshine-cli/1"),
                responder: responder
            ) { connection, _ in
                established.mark()
                return try await body(connection)
            }
        } catch {
            throw CommandFailure(Self.sentence(for: error, at: endpoint, established: established.isMarked))
        }
    }

    /// The one sentence for a failed exchange with the coordinator at `endpoint`.
    static func sentence(for error: any Error, at endpoint: Endpoint, established: Bool) -> String {
        switch error {
        case let error as RPCError:
            return error.message
        case is CommandFailure:
            return "\(error)"
        case is NIOSSLError, is BoringSSLError:
            return
                "The TLS handshake with the coordinator at \(endpoint) failed (\(error)); "
                + "check that its certificate and yours come "
                + "from the same cluster CA, are valid today, "
                + "and that \(endpoint.host) is one of the coordinator's host names."
        case let error as RPCCallError where established:
            return error.description
        default:
            if established { return ErrorSentence.describe(error) }
            return "Cannot reach the coordinator at \(endpoint) (\(reason(error))); check that it runs there. "
                .appending("Township agents keep recording offline and catch up when it is back.")
        }
    }

    /// What the network said, briefly.
    private static func reason(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            guard let first = error.connectionErrors.first?.error else { return "no address for \(error.host)" }
            if let io = first as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
            return "\(first)"
        case ChannelError.connectTimeout:
            return "no answer within 10 s"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as RPCCallError:
            return error.description
        default:
            return "\(error)"
        }
    }

    /// The identity the certificate at `path` grants, refused unless it is an operator's.
    static func operatorIdentity(in path: String, command: String) throws -> NodeIdentity {
        let summary: CertificateSummary
        do {
            summary = try CertificateSummary(PKIDirectory.readCertificate(at: path))
        } catch {
            throw CommandFailure(
                "\(path) is not a PEM certificate; check the path or re-issue it with `sunshine certs`.")
        }
        guard let identity = summary.identity else {
            throw CommandFailure(
                "\(path) is not a Sunshine node's certificate (\(summary.identityRefusal ?? "no identity")).")
        }
        guard identity.role == .operator else {
            throw CommandFailure(
                "\(path) is the certificate of \(identity.node), \(identity.role.withArticle); "
                    + "`sunshine \(command)` needs an "
                    + "operator's certificate (--node operator, "
                    + "or one issued with `sunshine certs issue --role operator`)."
            )
        }
        return identity
    }
}

/// Whether the connection got past hello, set from inside its body.
private final class ConnectionProgress: Sendable {
    private let flag = Mutex(false)
    func mark() { flag.withLock { $0 = true } }
    var isMarked: Bool { flag.withLock { $0 } }
}
