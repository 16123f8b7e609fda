import Crypto
import Foundation
import SunshineModel
import SwiftASN1
import X509

/// What `sunshine certs show` prints about one certificate, and what a revocation list matches on.
///
/// Reading a summary never traps on what a certificate holds: the coordinator summarises every
/// client certificate the CA signed before it decides anything, so a malformed one must come out
/// as a summary that grants no identity, never as a crash.
public struct CertificateSummary: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    /// The node and role the certificate grants, or nil (see ``identityRefusal``).
    public var identity: NodeIdentity?
    /// Why the certificate grants no identity, as the one sentence a refused peer is told; nil when it does.
    public var identityRefusal: String?
    public var notValidBefore: Date
    public var notValidAfter: Date
    /// The serial number, lower-case hex without separators.
    public var serial: String
    /// SHA-256 of the DER encoding, lower-case hex without separators.
    public var fingerprint: String
    /// DNS names and IP addresses among the subject alternative names; an IP address that is
    /// neither 4 nor 16 bytes is shown as `invalid IP address HEX (N bytes)`.
    public var hosts: [String]
    public var isCertificateAuthority: Bool

    public init(_ certificate: Certificate) throws {
        subject = certificate.subject.description
        issuer = certificate.issuer.description
        do {
            identity = try NodeIdentity(certificate: certificate)
        } catch {
            identity = nil
            identityRefusal = "\(error)"
        }
        notValidBefore = certificate.notValidBefore
        notValidAfter = certificate.notValidAfter
        // A serial of zero may arrive as no bytes at all; it is still the number 0.
        serial = certificate.serialNumber.bytes.isEmpty ? "00" : Hex.encode(certificate.serialNumber.bytes)
        fingerprint = try Self.fingerprint(of: certificate)
        hosts = []
        // Unreadable alternative names list no hosts; `identityRefusal` says they cannot be read.
        for name in (try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames() {
            switch name {
            case .dnsName(let dns): hosts.append(dns)
            case .ipAddress(let octets): hosts.append(Self.describeIP(Array(octets.bytes)))
            default: continue
            }
        }
        isCertificateAuthority = {
            if case .isCertificateAuthority = try? certificate.extensions.basicConstraints { return true }
            return false
        }()
    }

    /// SHA-256 over the certificate's DER bytes, as lower-case hex.
    public static func fingerprint(of certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return Hex.encode(SHA256.hash(data: serializer.serializedBytes))
    }

    /// Whether the certificate is valid at `date`.
    public func isValid(at date: Date) -> Bool { notValidBefore <= date && date <= notValidAfter }

    /// Dotted IPv4 for 4 bytes, uncompressed IPv6 for 16; any other length is no address at all.
    private static func describeIP(_ bytes: [UInt8]) -> String {
        switch bytes.count {
        case 4:
            return bytes.map(String.init).joined(separator: ".")
        case 16:
            return stride(from: 0, to: 16, by: 2).map { index in
                String((UInt16(bytes[index]) << 8) | UInt16(bytes[index + 1]), radix: 16)
            }.joined(separator: ":")
        case 0:
            return "invalid IP address (0 bytes)"
        default:
            return "invalid IP address \(Hex.encode(bytes)) (\(bytes.count) byte\(bytes.count == 1 ? "" : "s"))"
        }
    }
}

/// Lower-case hexadecimal, the one spelling used for serials and fingerprints everywhere.
public enum Hex {
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
