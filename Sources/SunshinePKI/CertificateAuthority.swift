import Crypto
import Foundation
import SunshineModel
import SwiftASN1
import X509

/// A certificate and the private key that goes with it.
public struct KeyedCertificate: Sendable {
    public var certificate: Certificate
    public var privateKey: Certificate.PrivateKey

    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// The certificate as PEM text (`-----BEGIN CERTIFICATE-----`).
    public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }

    /// The private key as PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`).
    public func privateKeyPEM() throws -> String { try privateKey.serializeAsPEM().pemString }
}

/// The cluster's one certificate authority: it signs a certificate for every node (DESIGN §3.7).
///
/// Keys are ECDSA P-256. Every node certificate carries CN = node id and OU = role, is usable for
/// both TLS server and client authentication, and the coordinator's also names the host names and
/// IP addresses agents dial.
public struct CertificateAuthority: Sendable {
    public var root: KeyedCertificate

    public init(root: KeyedCertificate) {
        self.root = root
    }

    /// Creates a new self-signed CA.
    public static func create(
        name: String = "Sunshine county CA",
        validFor days: Int = 3650,
        now: Date = Date()
    ) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            OrganizationName("Sunshine")
            CommonName(name)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(TimeInterval(days) * 86_400),
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: key
        )
        return CertificateAuthority(root: KeyedCertificate(certificate: certificate, privateKey: key))
    }

    /// Issues a node certificate signed by this CA.
    ///
    /// - Parameters:
    ///   - identity: the node id (CN) and role (OU).
    ///   - hosts: DNS names and IP addresses the node serves on (subject alternative names); empty for clients.
    ///   - notBefore / notAfter: the validity window; tests use them to make expired certificates.
    public func issue(
        _ identity: NodeIdentity,
        hosts: [String] = [],
        notBefore: Date = Date().addingTimeInterval(-300),
        notAfter: Date = Date().addingTimeInterval(400 * 86_400)
    ) throws -> KeyedCertificate {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            OrganizationName("Sunshine")
            OrganizationalUnitName(identity.role.rawValue)
            CommonName(identity.node)
        }
        let names = hosts.map(Self.generalName(for:))
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectKeyIdentifier(hash: key.publicKey)
            if !names.isEmpty {
                SubjectAlternativeNames(names)
            }
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: root.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: root.privateKey
        )
        return KeyedCertificate(certificate: certificate, privateKey: key)
    }

    /// An IP literal becomes an `iPAddress` name (4 or 16 bytes), anything else a `dNSName`.
    static func generalName(for host: String) -> GeneralName {
        if let bytes = IPAddressBytes.parse(host) {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
        }
        return .dnsName(host)
    }
}

/// Parses textual IPv4 and IPv6 addresses into network-order bytes without touching the network.
public enum IPAddressBytes {
    public static func parse(_ text: String) -> [UInt8]? {
        if let v4 = parseV4(text) { return v4 }
        return parseV6(text)
    }

    private static func parseV4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    private static func parseV6(_ text: String) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}
