import Foundation
import NIOCore
import NIOSSL
import SunshinePKI

/// Where a node's certificate, private key and the cluster CA are on disk (DESIGN §5).
public struct NodeCredentials: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String
    public var caPath: String

    public init(certificatePath: String, keyPath: String, caPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.caPath = caPath
    }

    /// The `--pki DIR --node NAME` shorthand: `DIR/NAME.pem`, `DIR/NAME.key`, `DIR/ca.pem`.
    public init(pki directory: PKIDirectory, node: String) {
        self.init(
            certificatePath: directory.certificatePath(for: node),
            keyPath: directory.keyPath(for: node),
            caPath: directory.caCertificatePath
        )
    }
}

/// Builds the TLS contexts of the cluster (DESIGN §3.7): TLS 1.3 only, the cluster CA as the only
/// trust root, and a client certificate required by the server.
///
/// Contexts are built once at start-up, never per connection or on an event loop.
public enum ClusterTLS {
    /// The coordinator's context: it requires a client certificate chaining to the CA. BoringSSL
    /// checks the chain and the validity dates; CN/OU and revocation are checked after the
    /// handshake by ``PeerIdentityHandler``.
    public static func serverContext(_ credentials: NodeCredentials) throws -> NIOSSLContext {
        let material = try load(credentials)
        var configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: material.chain.map { .certificate($0) },
            privateKey: .privateKey(material.key),
            trustRoots: .certificates(material.roots)
        )
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        return try makeContext(configuration, credentials)
    }

    /// An agent's or operator's context: it presents its certificate and verifies the coordinator's
    /// against the CA and the host name or IP address it dialled.
    public static func clientContext(_ credentials: NodeCredentials) throws -> NIOSSLContext {
        let material = try load(credentials)
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = material.chain.map { .certificate($0) }
        configuration.privateKey = .privateKey(material.key)
        configuration.trustRoots = .certificates(material.roots)
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        return try makeContext(configuration, credentials)
    }

    /// The SNI name for a host: none for IP literals (the certificate's IP addresses are checked
    /// against the connected address instead).
    static func serverHostname(for host: String) -> String? {
        IPAddressBytes.parse(host) == nil ? host : nil
    }

    private struct Material {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var roots: [NIOSSLCertificate]
    }

    private static func load(_ credentials: NodeCredentials) throws -> Material {
        func certificates(_ path: String, what: String) throws -> [NIOSSLCertificate] {
            try readable(path, what: what)
            let loaded = try? NIOSSLCertificate.fromPEMFile(path)
            guard let loaded, !loaded.isEmpty else {
                throw TLSSetupError("\(path) is not a PEM certificate (\(what)); check the path or re-issue it with `sunshine certs`.")
            }
            return loaded
        }
        let chain = try certificates(credentials.certificatePath, what: "this node's certificate")
        let roots = try certificates(credentials.caPath, what: "the cluster CA")
        try readable(credentials.keyPath, what: "this node's private key")
        guard let key = try? NIOSSLPrivateKey(file: credentials.keyPath, format: .pem) else {
            throw TLSSetupError("\(credentials.keyPath) is not a PEM private key; check the path or re-issue it with `sunshine certs`.")
        }
        return Material(chain: chain, key: key, roots: roots)
    }

    private static func readable(_ path: String, what: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSSetupError("Cannot read \(path) (\(what)); create it with `sunshine certs init` or pass the right --pki/--cert/--key/--ca.")
        }
    }

    private static func makeContext(_ configuration: TLSConfiguration, _ credentials: NodeCredentials) throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                "The certificate \(credentials.certificatePath) and key \(credentials.keyPath) could not be used together (\(error)); "
                    + "check that they belong to the same node."
            )
        }
    }
}

/// A TLS set-up problem, said in one sentence naming the file at fault.
public struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
