import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SunshineModel
import SwiftASN1
import X509

/// The on-disk layout of a cluster's certificates (DESIGN §5):
/// `DIR/ca.pem`, `DIR/ca.key`, and for each node `DIR/NODE.pem` and `DIR/NODE.key`.
///
/// Private keys are written with mode 0600 and never replaced unless asked to.
public struct PKIDirectory: Sendable {
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public var caCertificatePath: String { file("ca.pem") }
    public var caKeyPath: String { file("ca.key") }
    public func certificatePath(for node: String) -> String { file("\(node).pem") }
    public func keyPath(for node: String) -> String { file("\(node).key") }

    /// The files that `init` writes for a county: the CA, the coordinator, the townships and one operator.
    public static func countyNodes(townships: Int) throws -> [NodeIdentity] {
        try [NodeIdentity(node: "coordinator", role: .coordinator)]
            + NodeName.townships(townships).map { try NodeIdentity(node: $0, role: .agent) }
            + [NodeIdentity(node: "operator", role: .operator)]
    }

    /// Creates the CA and one certificate per node. Refuses to replace any existing file unless `force`.
    @discardableResult
    public func initialize(
        townships: Int,
        coordinatorHosts: [String],
        force: Bool = false
    ) throws -> [NodeIdentity] {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let nodes = try Self.countyNodes(townships: townships)
        if !force {
            let planned = [caCertificatePath, caKeyPath] + nodes.flatMap { [certificatePath(for: $0.node), keyPath(for: $0.node)] }
            if let existing = planned.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                throw PKIError.fileExists(existing)
            }
        }
        let authority = try CertificateAuthority.create()
        try write(authority.root, certificateAt: caCertificatePath, keyAt: caKeyPath, force: force)
        for identity in nodes {
            let hosts = identity.role == .coordinator ? coordinatorHosts : []
            try write(authority.issue(identity, hosts: hosts), for: identity.node, force: force)
        }
        return nodes
    }

    /// Issues one more node certificate with the existing CA.
    public func issue(_ identity: NodeIdentity, hosts: [String] = [], force: Bool = false) throws {
        let authority = try loadAuthority()
        try write(authority.issue(identity, hosts: hosts), for: identity.node, force: force)
    }

    /// Loads the CA's certificate and key.
    public func loadAuthority() throws -> CertificateAuthority {
        let certificate = try Self.readCertificate(at: caCertificatePath)
        let key = try Self.readPrivateKey(at: caKeyPath)
        return CertificateAuthority(root: KeyedCertificate(certificate: certificate, privateKey: key))
    }

    /// Writes a node's certificate and key as `NODE.pem` / `NODE.key`; refuses the node id `ca`,
    /// whose files are the CA's.
    public func write(_ keyed: KeyedCertificate, for node: String, force: Bool = false) throws {
        guard certificatePath(for: node) != caCertificatePath else { throw PKIError.nodeNamedLikeTheCA }
        try write(keyed, certificateAt: certificatePath(for: node), keyAt: keyPath(for: node), force: force)
    }

    private func write(_ keyed: KeyedCertificate, certificateAt certPath: String, keyAt keyPath: String, force: Bool) throws {
        for target in [certPath, keyPath] where !force && FileManager.default.fileExists(atPath: target) {
            throw PKIError.fileExists(target)
        }
        try Self.writeFile(keyPath, contents: keyed.privateKeyPEM(), mode: 0o600)
        try Self.writeFile(certPath, contents: keyed.certificatePEM(), mode: 0o644)
    }

    /// Writes atomically (temporary file, then rename) so that a crash never leaves half a key,
    /// and creates the temporary file with its final mode so a key is never readable by others.
    static func writeFile(_ path: String, contents: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard descriptor >= 0 else {
            throw PKIError.unreadable(path: temporary, reason: String(cString: strerror(errno)))
        }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        fchmod(descriptor, mode)
        fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw PKIError.unreadable(path: path, reason: "could not be written (\(String(cString: strerror(errno))))")
        }
    }

    /// Reads the first certificate of a PEM file.
    public static func readCertificate(at path: String) throws -> Certificate {
        do {
            return try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            throw PKIError.unreadable(path: path, reason: "no such file")
        } catch {
            throw PKIError.unreadable(path: path, reason: "it is not a PEM certificate")
        }
    }

    /// Reads a PEM private key (PKCS#8 or SEC1).
    public static func readPrivateKey(at path: String) throws -> Certificate.PrivateKey {
        do {
            return try Certificate.PrivateKey(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            throw PKIError.unreadable(path: path, reason: "no such file")
        } catch {
            throw PKIError.unreadable(path: path, reason: "it is not a PEM private key")
        }
    }

    private func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}
