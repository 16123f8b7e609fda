import SunshineModel
import X509

extension NodeIdentity {
    /// Reads the identity a certificate grants from its subject: CN = node id, OU = role (DESIGN §3.7).
    ///
    /// A certificate grants an identity only when it can be read without guessing: it is not a CA's,
    /// its subject holds exactly one CN and exactly one OU, both text, naming a node id and a role the
    /// cluster allows together, and every IP address among its alternative names is 4 or 16 bytes.
    /// Anything else — two CNs, an OU of `agent` beside one of `operator` — is refused rather than
    /// resolved by picking one, since the first or the last would be the issuer's mistake, not its intent.
    ///
    /// - Throws: ``PKIError/missingIdentity(_:)`` saying what the certificate holds instead.
    public init(certificate: Certificate) throws {
        let constraints: BasicConstraints?
        do {
            constraints = try certificate.extensions.basicConstraints
        } catch {
            throw PKIError.missingIdentity("its basic constraints cannot be read")
        }
        if case .isCertificateAuthority = constraints {
            throw PKIError.missingIdentity("it is a certificate authority's certificate, not a node's")
        }
        var commonNames: [RelativeDistinguishedName.Attribute.Value] = []
        var units: [RelativeDistinguishedName.Attribute.Value] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                switch attribute.type {
                case .RDNAttributeType.commonName: commonNames.append(attribute.value)
                case .RDNAttributeType.organizationalUnitName: units.append(attribute.value)
                default: continue
                }
            }
        }
        let commonName = try Self.single(commonNames, named: "CN", naming: "the node")
        let unit = try Self.single(units, named: "OU", naming: "the role")
        guard let role = NodeRole(rawValue: unit) else {
            throw PKIError.missingIdentity(
                "its OU \(Self.quoted(unit)) names no role (coordinator, agent or operator)"
            )
        }
        try Self.checkAlternativeNames(of: certificate)
        do throws(IdentityError) {
            try self.init(node: commonName, role: role)
        } catch .invalidNodeName {
            throw PKIError.missingIdentity(
                "its CN \(Self.quoted(commonName)) is not a node id (1–64 lower-case letters, digits and '-')"
            )
        } catch .reservedName(let name, let role) {
            throw PKIError.missingIdentity("its CN \"\(name)\" is reserved for the county and cannot name \(role.withArticle)")
        } catch .notAnOperatorName(let name) {
            throw PKIError.missingIdentity(
                "its CN \"\(name)\" cannot name an operator (operators are named operator or operator-NAME)"
            )
        } catch .operatorName(let name, let role) {
            throw PKIError.missingIdentity("its CN \"\(name)\" is an operator's name and cannot name \(role.withArticle)")
        }
    }

    /// The one text value of a subject attribute that must appear exactly once.
    private static func single(
        _ values: [RelativeDistinguishedName.Attribute.Value],
        named attribute: String,
        naming what: String
    ) throws -> String {
        guard values.count == 1, let value = values.first else {
            throw PKIError.missingIdentity(
                values.isEmpty
                    ? "its subject has no \(attribute) naming \(what)"
                    : "its subject has \(values.count) \(attribute)s, and a node certificate has exactly one"
            )
        }
        guard let text = String(value) else {
            throw PKIError.missingIdentity("its \(attribute) is not a text string (UTF8String, PrintableString or IA5String)")
        }
        return text
    }

    /// Refuses alternative names that cannot be read, or IP addresses that are neither IPv4 nor IPv6.
    private static func checkAlternativeNames(of certificate: Certificate) throws {
        let names: SubjectAlternativeNames?
        do {
            names = try certificate.extensions.subjectAlternativeNames
        } catch {
            throw PKIError.missingIdentity("its subject alternative names cannot be read")
        }
        for case .ipAddress(let octets) in names ?? SubjectAlternativeNames() {
            let count = octets.bytes.count
            guard count == 4 || count == 16 else {
                throw PKIError.missingIdentity(
                    "its subject alternative names hold an IP address of \(count) byte\(count == 1 ? "" : "s") "
                        + "(an address is 4 or 16 bytes)"
                )
            }
        }
    }

    /// A value from a certificate as it may appear in an error sentence: quoted when it is short,
    /// printable ASCII, otherwise only its length, so that a refusal never carries a 10 KB name or
    /// control characters into a log or a terminal.
    private static func quoted(_ value: String) -> String {
        let printable = value.unicodeScalars.allSatisfy { (0x20..<0x7f).contains($0.value) && $0 != "\"" }
        if printable && value.count <= 64 { return "\"\(value)\"" }
        return "(\(value.unicodeScalars.count) characters, not shown)"
    }
}
