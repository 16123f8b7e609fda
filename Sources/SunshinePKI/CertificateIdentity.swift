import SunshineModel
import X509

extension NodeIdentity {
    /// Reads the identity a certificate grants from its subject: CN = node id, OU = role (DESIGN §3.7).
    ///
    /// - Throws: ``PKIError/missingIdentity(_:)`` when the subject lacks a CN naming a node or an OU
    ///   naming a role, or names one the cluster reserves.
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
        do {
            try self.init(node: commonName, role: role)
        } catch {
            throw PKIError.missingIdentity(error.description)
        }
    }
}
