import SunshineModel
import X509

/// What a node is allowed to be in a Sunshine cluster; carried as the certificate's OU.
public enum NodeRole: String, Sendable, Hashable, CaseIterable, Codable {
    /// The county's server.
    case coordinator
    /// A township office's agent.
    case agent
    /// A county operator's client (dashboard, status, tally, …).
    case `operator`
}

/// Who a peer is, as its certificate says: CN = node id, OU = role (DESIGN §3.7).
public struct NodeIdentity: Sendable, Hashable, CustomStringConvertible {
    public var node: String
    public var role: NodeRole

    public init(node: String, role: NodeRole) {
        self.node = node
        self.role = role
    }

    /// Reads the identity from a certificate's subject.
    ///
    /// - Throws: ``PKIError/missingIdentity(_:)`` when the subject lacks a CN or an OU naming a known role.
    public init(certificate: Certificate) throws {
        var commonName: String?
        var unit: String?
        for rdn in certificate.subject {
            for attribute in rdn {
                switch attribute.type {
                case .RDNAttributeType.commonName: commonName = String(attribute.value)
                case .RDNAttributeType.organizationalUnitName: unit = String(attribute.value)
                default: continue
                }
            }
        }
        guard let commonName, NodeName.isValid(commonName) else {
            throw PKIError.missingIdentity("the certificate's subject has no valid CN naming a node")
        }
        guard let unit, let role = NodeRole(rawValue: unit) else {
            throw PKIError.missingIdentity(
                "the certificate's subject has no OU naming a role (coordinator, agent or operator)"
            )
        }
        self.init(node: commonName, role: role)
    }

    public var description: String { "\(node) (\(role.rawValue))" }
}
