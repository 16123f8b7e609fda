import Foundation
import SunshineModel
import SunshinePKI

/// A cluster's certificates generated for one test, in a fresh temporary directory:
/// the CA, the coordinator (localhost, 127.0.0.1), `township-01` … `township-03` and `operator`,
/// plus certificates for the refusal cases — from another CA, expired, not yet valid, and one
/// whose serial the test can revoke.
public struct TestPKI: Sendable {
    public let directory: PKIDirectory
    public let authority: CertificateAuthority

    public init(townships: Int = 3) throws {
        directory = PKIDirectory(path: Self.temporaryPath())
        try directory.initialize(townships: townships, coordinatorHosts: ["localhost", "127.0.0.1"])
        authority = try directory.loadAuthority()
    }

    /// A directory another issuer filled in the same layout (OpenSSL, for one), CA key included.
    public init(adopting directory: PKIDirectory) throws {
        self.directory = directory
        authority = try directory.loadAuthority()
    }

    /// A fresh path in the temporary directory, not yet created.
    public static func temporaryPath() -> String {
        NSTemporaryDirectory() + "sunshine-pki-" + UUID().uuidString
    }

    /// Issues a certificate into the directory under `node`, from this CA unless another is given.
    @discardableResult
    public func issue(
        _ node: String,
        role: NodeRole = .agent,
        by other: CertificateAuthority? = nil,
        notBefore: Date = Date().addingTimeInterval(-300),
        notAfter: Date = Date().addingTimeInterval(86_400)
    ) throws -> KeyedCertificate {
        let keyed = try (other ?? authority).issue(try NodeIdentity(node: node, role: role), notBefore: notBefore, notAfter: notAfter)
        try directory.write(keyed, for: node, force: true)
        return keyed
    }

    /// A certificate for `node` that expired yesterday.
    @discardableResult
    public func issueExpired(_ node: String) throws -> KeyedCertificate {
        try issue(node, notBefore: Date().addingTimeInterval(-10 * 86_400), notAfter: Date().addingTimeInterval(-86_400))
    }

    /// A certificate for `node` signed by a different CA than the cluster's.
    @discardableResult
    public func issueForeign(_ node: String) throws -> KeyedCertificate {
        try issue(node, by: CertificateAuthority.create(name: "Some other county"))
    }

    public func summary(of node: String) throws -> CertificateSummary {
        try CertificateSummary(PKIDirectory.readCertificate(at: directory.certificatePath(for: node)))
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory.path)
    }
}
