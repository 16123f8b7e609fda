import Crypto
import Foundation
import SunshineModel
import SunshinePKI
import SwiftASN1
import X509

/// Certificates a cluster CA signed but that hold something odd: broken IP addresses, two CNs or
/// two OUs, reserved names, subjects that are empty, huge or not text, a CA presented as a node.
///
/// Each specimen is built with swift-certificates exactly as a careless or hostile issuer could
/// build it. BoringSSL accepts all but two of them as chaining to the CA (see ``handshake``), so
/// only Sunshine's own reading of the certificate stands between them and a session.
public enum CertificateSpecimen: String, CaseIterable, Sendable, CustomStringConvertible {
    case ipAddressOf0Bytes
    case ipAddressOf1Byte
    case ipAddressOf3Bytes
    case ipAddressOf5Bytes
    case ipAddressOf15Bytes
    case ipAddressOf17Bytes
    case unreadableAlternativeNames
    case twoCommonNames
    case agentAndOperatorUnits
    case twoUnitsInOneRelativeName
    case emptySubject
    case noUnit
    case noCommonName
    case tenKilobyteCommonName
    case commonNameWithUppercaseAndSpaces
    case commonNameWithControlCharacters
    case commonNameAsBMPString
    case commonNameAsTeletexString
    case unitNamingNoRole
    case countyAsAgent
    case countyAsCoordinator
    case coordinatorAsAgent
    case coordinatorAsOperator
    /// An operator named like a township (what `sunshine certs issue` refuses, an OpenSSL CA may sign).
    case townshipAsOperator
    /// An agent named like an operator.
    case operatorAsAgent
    case certificateAuthorityWithNodeName
    case clusterRootAsClient
    case coordinatorRoleAsClient
    /// Odd but well-formed: the largest positive 20-byte serial, with a valid identity.
    case longestSerial
    /// Odd but well-formed: a serial of zero, with a valid identity.
    case zeroSerial
    /// Odd but well-formed: no extensions at all, with a valid identity.
    case noExtensions
    /// Odd but well-formed: 200 attributes besides CN and OU.
    case hugeSubject

    public var description: String { rawValue }

    /// The file name the specimen is written under in a ``TestPKI`` directory.
    public var fileName: String { "specimen-" + rawValue.lowercased() }

    /// The node and role a client holding this certificate claims in `hello` (what its subject
    /// would suggest, or township-05 as an agent when it suggests nothing).
    public var claimedIdentity: (node: String, role: String) {
        switch self {
        case .countyAsAgent: ("county", "agent")
        case .countyAsCoordinator: ("county", "coordinator")
        case .coordinatorAsAgent: ("coordinator", "agent")
        case .coordinatorAsOperator: ("coordinator", "operator")
        case .coordinatorRoleAsClient: ("coordinator", "coordinator")
        case .townshipAsOperator: ("township-05", "operator")
        case .operatorAsAgent: ("operator-alice", "agent")
        case .agentAndOperatorUnits, .twoUnitsInOneRelativeName: ("township-05", "operator")
        default: ("township-05", "agent")
        }
    }

    /// A phrase the refusal of ``NodeIdentity/init(certificate:)`` must contain, or nil when the
    /// specimen does identify a node (the well-formed oddities, and the coordinator's own name).
    public var identityRefusal: String? {
        switch self {
        case .ipAddressOf0Bytes: "IP address of 0 bytes"
        case .ipAddressOf1Byte: "IP address of 1 byte"
        case .ipAddressOf3Bytes: "IP address of 3 bytes"
        case .ipAddressOf5Bytes: "IP address of 5 bytes"
        case .ipAddressOf15Bytes: "IP address of 15 bytes"
        case .ipAddressOf17Bytes: "IP address of 17 bytes"
        case .unreadableAlternativeNames: "subject alternative names cannot be read"
        case .twoCommonNames: "2 CNs"
        case .agentAndOperatorUnits, .twoUnitsInOneRelativeName: "2 OUs"
        case .emptySubject, .noCommonName: "no CN"
        case .noUnit: "no OU"
        case .tenKilobyteCommonName, .commonNameWithUppercaseAndSpaces, .commonNameWithControlCharacters:
            "is not a node id"
        case .commonNameAsBMPString, .commonNameAsTeletexString: "CN is not a text string"
        case .unitNamingNoRole: "names no role"
        case .countyAsAgent, .countyAsCoordinator, .coordinatorAsAgent, .coordinatorAsOperator: "is reserved"
        case .townshipAsOperator: "operators are named operator or operator-NAME"
        case .operatorAsAgent: "is an operator's name and cannot name an agent"
        case .certificateAuthorityWithNodeName, .clusterRootAsClient: "certificate authority"
        case .coordinatorRoleAsClient, .longestSerial, .zeroSerial, .noExtensions, .hugeSubject: nil
        }
    }

    /// The identity the specimen grants when ``identityRefusal`` is nil.
    public var identity: NodeIdentity? {
        guard identityRefusal == nil else { return nil }
        return self == .coordinatorRoleAsClient
            ? try? NodeIdentity(node: "coordinator", role: .coordinator)
            : try? NodeIdentity(node: "township-05", role: .agent)
    }

    /// What a coordinator that accepts agents and operators does with a client presenting the specimen.
    public enum HandshakeOutcome: Sendable, Equatable {
        /// One `forbidden` frame containing this phrase, then the connection closes.
        case forbidden(String)
        /// BoringSSL itself fails the handshake (it cannot decode the certificate, or the key may not
        /// sign for TLS); no frame is sent.
        case failedByTLS
        /// The hello is answered.
        case accepted
    }

    public var handshake: HandshakeOutcome {
        switch self {
        case .unreadableAlternativeNames, .clusterRootAsClient: .failedByTLS
        case .coordinatorRoleAsClient: .forbidden("cannot connect here")
        default: identityRefusal.map(HandshakeOutcome.forbidden) ?? .accepted
        }
    }

    /// Issues the specimen with `authority` (the cluster root itself for ``clusterRootAsClient``).
    public func issue(by authority: CertificateAuthority) throws -> KeyedCertificate {
        if self == .clusterRootAsClient { return authority.root }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        return KeyedCertificate(
            certificate: try Certificate(
                version: .v3,
                serialNumber: serialNumber,
                publicKey: key.publicKey,
                notValidBefore: Date().addingTimeInterval(-300),
                notValidAfter: Date().addingTimeInterval(86_400),
                issuer: authority.root.certificate.subject,
                subject: try subject(),
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try extensions(for: key),
                issuerPrivateKey: authority.root.privateKey
            ),
            privateKey: key
        )
    }

    private var serialNumber: Certificate.SerialNumber {
        switch self {
        case .longestSerial: Certificate.SerialNumber(bytes: [0x7f] + [UInt8](repeating: 0xff, count: 19))
        case .zeroSerial: Certificate.SerialNumber(bytes: [0])
        default: Certificate.SerialNumber()
        }
    }

    private typealias Attribute = RelativeDistinguishedName.Attribute

    private static func commonName(_ text: String) -> Attribute {
        Attribute(type: .RDNAttributeType.commonName, utf8String: text)
    }

    private static func unit(_ text: String) -> Attribute {
        Attribute(type: .RDNAttributeType.organizationalUnitName, utf8String: text)
    }

    private static let organization = Attribute(type: .RDNAttributeType.organizationName, utf8String: "Sunshine")

    /// A CN whose value is raw DER of another string type (tag and content bytes).
    private static func commonName(tag: UInt8, content: [UInt8]) throws -> Attribute {
        let der = [tag, UInt8(content.count)] + content
        return Attribute(type: .RDNAttributeType.commonName, value: try ASN1Any(derEncoded: DER.parse(der)))
    }

    private func subject() throws -> DistinguishedName {
        func names(_ attributes: [Attribute]) -> DistinguishedName {
            DistinguishedName(attributes.map { RelativeDistinguishedName($0) })
        }
        let township = Self.commonName("township-05")
        let agent = Self.unit("agent")
        switch self {
        case .twoCommonNames:
            return names([Self.organization, agent, township, Self.commonName("township-06")])
        case .agentAndOperatorUnits:
            return names([Self.organization, agent, Self.unit("operator"), township])
        case .twoUnitsInOneRelativeName:
            return DistinguishedName([
                RelativeDistinguishedName(Self.organization),
                RelativeDistinguishedName([agent, Self.unit("operator"), township]),
            ])
        case .emptySubject:
            return DistinguishedName()
        case .noUnit:
            return names([Self.organization, township])
        case .noCommonName:
            return names([Self.organization, agent])
        case .tenKilobyteCommonName:
            return names([Self.organization, agent, Self.commonName(String(repeating: "t", count: 10_240))])
        case .commonNameWithUppercaseAndSpaces:
            return names([Self.organization, agent, Self.commonName("Township 05")])
        case .commonNameWithControlCharacters:
            return names([Self.organization, agent, Self.commonName("township-05\u{0}\u{1b}[2J\u{202e}")])
        case .commonNameAsBMPString:
            let utf16 = Array("township-05".utf16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
            return names([Self.organization, agent, try Self.commonName(tag: 0x1e, content: utf16)])
        case .commonNameAsTeletexString:
            return names([Self.organization, agent, try Self.commonName(tag: 0x14, content: Array("t\u{e9}".utf8))])
        case .unitNamingNoRole:
            return names([Self.organization, Self.unit("clerk"), township])
        case .countyAsAgent:
            return names([Self.organization, agent, Self.commonName("county")])
        case .countyAsCoordinator:
            return names([Self.organization, Self.unit("coordinator"), Self.commonName("county")])
        case .coordinatorAsAgent:
            return names([Self.organization, agent, Self.commonName("coordinator")])
        case .coordinatorAsOperator:
            return names([Self.organization, Self.unit("operator"), Self.commonName("coordinator")])
        case .coordinatorRoleAsClient:
            return names([Self.organization, Self.unit("coordinator"), Self.commonName("coordinator")])
        case .townshipAsOperator:
            return names([Self.organization, Self.unit("operator"), township])
        case .operatorAsAgent:
            return names([Self.organization, agent, Self.commonName("operator-alice")])
        case .hugeSubject:
            let filler = (0..<200).map { Attribute(type: .RDNAttributeType.localityName, utf8String: "place-\($0)") }
            return names([Self.organization] + filler + [agent, township])
        default:
            return names([Self.organization, agent, township])
        }
    }

    private func extensions(for key: Certificate.PrivateKey) throws -> Certificate.Extensions {
        if self == .noExtensions { return Certificate.Extensions() }
        var extensions = try Certificate.Extensions {
            if self == .certificateAuthorityWithNodeName {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            } else {
                Critical(BasicConstraints.notCertificateAuthority)
            }
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        switch self {
        case .ipAddressOf0Bytes: try extensions.append(Self.ipAddress(count: 0))
        case .ipAddressOf1Byte: try extensions.append(Self.ipAddress(count: 1))
        case .ipAddressOf3Bytes: try extensions.append(Self.ipAddress(count: 3))
        case .ipAddressOf5Bytes: try extensions.append(Self.ipAddress(count: 5))
        case .ipAddressOf15Bytes: try extensions.append(Self.ipAddress(count: 15))
        case .ipAddressOf17Bytes: try extensions.append(Self.ipAddress(count: 17))
        case .unreadableAlternativeNames:
            // A SEQUENCE announcing more bytes than it holds.
            try extensions.append(
                Certificate.Extension(
                    oid: .X509ExtensionID.subjectAlternativeName, critical: false, value: [0x30, 0x09, 0x87])
            )
        default: break
        }
        return extensions
    }

    private static func ipAddress(count: Int) throws -> Certificate.Extension {
        let octets = ASN1OctetString(contentBytes: ArraySlice((0..<count).map { UInt8(10 + $0) }))
        return try Certificate.Extension(
            SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(octets)]), critical: false)
    }
}
