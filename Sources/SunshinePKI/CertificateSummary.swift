import Crypto
import SunshineModel
import Foundation
import SwiftASN1
import X509

/// What `sunshine certs show` prints about one certificate, and what a revocation list matches on.
public struct CertificateSummary: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var identity: NodeIdentity?
    public var notValidBefore: Date
    public var notValidAfter: Date
    /// The serial number, lower-case hex without separators.
    public var serial: String
    /// SHA-256 of the DER encoding, lower-case hex without separators.
    public var fingerprint: String
    public var hosts: [String]
    public var isCertificateAuthority: Bool

    public init(_ certificate: Certificate) throws {
        subject = certificate.subject.description
        issuer = certificate.issuer.description
        identity = try? NodeIdentity(certificate: certificate)
        notValidBefore = certificate.notValidBefore
        notValidAfter = certificate.notValidAfter
        serial = Hex.encode(certificate.serialNumber.bytes)
        fingerprint = try Self.fingerprint(of: certificate)
        hosts = []
        if let names = try certificate.extensions.subjectAlternativeNames {
            for name in names {
                switch name {
                case .dnsName(let dns): hosts.append(dns)
                case .ipAddress(let octets): hosts.append(Self.describeIP(Array(octets.bytes)))
                default: continue
                }
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

    private static func describeIP(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map { index in
            String((UInt16(bytes[index]) << 8) | UInt16(bytes[index + 1]), radix: 16)
        }.joined(separator: ":")
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
