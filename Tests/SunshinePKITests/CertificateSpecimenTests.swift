import Foundation
import SunshineModel
import SunshinePKI
import SunshineTestSupport
import Testing

/// Reading certificates the CA signed but that hold something odd (DESIGN §3.7): nothing in a
/// certificate may crash its reader, and only a certificate naming exactly one node and one role
/// grants an identity.
@Suite struct CertificateSpecimenTests {
    private static let authority = Result { try CertificateAuthority.create() }

    /// The specimen as the coordinator meets it: DER bytes off the wire, parsed afresh.
    private func received(_ specimen: CertificateSpecimen) throws -> KeyedCertificate {
        let issued = try specimen.issue(by: Self.authority.get())
        let pem = try issued.certificatePEM()
        return KeyedCertificate(certificate: try .init(pemEncoded: pem), privateKey: issued.privateKey)
    }

    @Test(arguments: CertificateSpecimen.allCases)
    func summarisingAnySpecimenNeverTraps(_ specimen: CertificateSpecimen) throws {
        let certificate = try received(specimen).certificate
        let summary = try CertificateSummary(certificate)
        #expect(summary.serial.count >= 2)
        #expect(summary.fingerprint.count == 64)
        #expect(summary.identity == specimen.identity)
    }

    @Test(arguments: CertificateSpecimen.allCases)
    func theSummarySaysWhyACertificateGrantsNoIdentity(_ specimen: CertificateSpecimen) throws {
        let summary = try CertificateSummary(try received(specimen).certificate)
        if let refusal = specimen.identityRefusal {
            #expect(summary.identityRefusal?.contains(refusal) == true, "\(summary.identityRefusal ?? "none")")
        } else {
            #expect(summary.identityRefusal == nil)
        }
    }

    @Test(arguments: CertificateSpecimen.allCases.filter { $0.identityRefusal != nil })
    func aSpecimenGrantsNoIdentityAndSaysWhy(_ specimen: CertificateSpecimen) throws {
        let certificate = try received(specimen).certificate
        let refusal = try #require(specimen.identityRefusal)
        do {
            let identity = try NodeIdentity(certificate: certificate)
            Issue.record("\(specimen) was read as \(identity)")
        } catch let error as PKIError {
            guard case .missingIdentity = error else {
                Issue.record("\(specimen) failed with \(error), not missingIdentity")
                return
            }
            let sentence = error.description
            #expect(sentence.contains(refusal), "\(sentence)")
            #expect(sentence.hasSuffix("."), "\(sentence)")
            #expect(sentence.filter { $0 == "." }.count <= 2, "one sentence: \(sentence)")
            #expect(sentence.count < 300, "the sentence must not echo what the certificate holds: \(sentence)")
            let printable = sentence.unicodeScalars.allSatisfy { (0x20..<0x7f).contains($0.value) || $0 == "–" }
            #expect(printable, "\(sentence)")
        }
    }

    @Test(arguments: CertificateSpecimen.allCases.filter { $0.identityRefusal == nil })
    func wellFormedOdditiesStillIdentifyTheirNode(_ specimen: CertificateSpecimen) throws {
        let certificate = try received(specimen).certificate
        #expect(try NodeIdentity(certificate: certificate) == specimen.identity)
    }

    @Test func agentAndOperatorUnitsAreNotReadAsAnOperator() throws {
        let certificate = try received(.agentAndOperatorUnits).certificate
        #expect(throws: PKIError.self) { try NodeIdentity(certificate: certificate) }
        #expect(try CertificateSummary(certificate).identity == nil)
    }

    @Test(arguments: [
        (CertificateSpecimen.ipAddressOf0Bytes, "invalid IP address (0 bytes)"),
        (.ipAddressOf5Bytes, "invalid IP address 0a0b0c0d0e (5 bytes)"),
        (.ipAddressOf17Bytes, "invalid IP address 0a0b0c0d0e0f101112131415161718191a (17 bytes)"),
    ])
    func anIPAddressOfTheWrongLengthIsShownAsInvalid(_ specimen: CertificateSpecimen, shown: String) throws {
        let summary = try CertificateSummary(try received(specimen).certificate)
        #expect(summary.hosts == ["localhost", shown])
    }

    @Test func aZeroAndALongestSerialAreSpelledInHexAndRevocable() throws {
        let zero = try CertificateSummary(try received(.zeroSerial).certificate)
        #expect(zero.serial == "00")
        #expect(try RevocationList(parsing: "serial:00\n").revokes(zero))
        let longest = try CertificateSummary(try received(.longestSerial).certificate)
        #expect(longest.serial == "7f" + String(repeating: "ff", count: 19))
        #expect(try RevocationList(parsing: "serial:\(longest.serial)\n").revokes(longest))
    }
}

@Suite struct ReservedNameTests {
    @Test(arguments: [
        ("county", NodeRole.agent), ("county", .operator), ("county", .coordinator),
        ("coordinator", .agent), ("coordinator", .operator),
    ])
    func theCountysNamesAreNeverIssuedToAnotherRole(_ node: String, role: NodeRole) throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        #expect(throws: IdentityError.reservedName(node, role: role)) {
            try pki.directory.issue(try NodeIdentity(node: node, role: role))
        }
        if node == "county" {
            #expect(!FileManager.default.fileExists(atPath: pki.directory.certificatePath(for: node)))
        }
    }

    @Test(arguments: [
        (["--node", "county", "--role", "agent"], "\"county\" is reserved for the county and cannot name an agent"),
        (["--node", "county", "--role", "coordinator"], "\"county\" is reserved for the county"),
        (
            ["--node", "coordinator", "--role", "agent"],
            "\"coordinator\" is reserved for the county and cannot name an agent"
        ),
        (["--node", "coordinator", "--role", "operator"], "\"coordinator\" is reserved for the county"),
        (
            ["--node", "township-04", "--role", "operator"],
            "\"township-04\" cannot name an operator: operators are named operator or operator-NAME"
        ),
        (["--node", "operator-alice", "--role", "agent"], "\"operator-alice\" is an operator's name"),
        (["--node", "Township-18", "--role", "agent"], "is not a valid node id"),
        (["--node", "township-18", "--role", "clerk"], "--role clerk is not a role"),
    ])
    func certsIssueRefusesReservedAndInvalidNamesInOneSentence(_ arguments: [String], sentence: String) throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let before = try FileManager.default.contentsOfDirectory(atPath: pki.directory.path).sorted()
        let result = try runProcess(
            SunshineExecutable.path, ["certs", "issue", "--pki", pki.directory.path] + arguments)
        #expect(result.status != 0)
        #expect(result.output.contains(sentence), "\(result.output)")
        #expect(result.output.split(separator: "\n").first?.contains(sentence) == true, "\(result.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: pki.directory.path).sorted() == before)
    }

    @Test func aNodeNamedCaIsNeverWrittenOverTheCA() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let before = try String(contentsOfFile: pki.directory.caCertificatePath, encoding: .utf8)
        #expect(throws: PKIError.nodeNamedLikeTheCA) {
            try pki.directory.issue(try NodeIdentity(node: "ca", role: .agent), force: true)
        }
        #expect(try String(contentsOfFile: pki.directory.caCertificatePath, encoding: .utf8) == before)
    }

    @Test func certsShowSaysWhyACertificateIsNoNode() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try pki.directory.write(
            try CertificateSpecimen.agentAndOperatorUnits.issue(by: pki.authority), for: "two-units")
        let path = pki.directory.certificatePath(for: "two-units")
        let text = try runProcess(SunshineExecutable.path, ["certs", "show", path])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.output.contains("role:      none (not a Sunshine node certificate)"), "\(text.output)")
        #expect(
            text.output.contains("refusal:   The certificate does not identify a Sunshine node: its subject has 2 OUs"))
        let json = try runProcess(SunshineExecutable.path, ["certs", "show", "--json", path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["node"] is NSNull)
        #expect((object["refusal"] as? String)?.contains("2 OUs") == true, "\(json.output)")
    }

    @Test func certsIssueStillIssuesAnOrdinaryNode() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let result = try runProcess(
            SunshineExecutable.path,
            ["certs", "issue", "--pki", pki.directory.path, "--node", "township-18", "--role", "agent"]
        )
        #expect(result.status == 0, "\(result.output)")
        #expect(try pki.summary(of: "township-18").identity == NodeIdentity(node: "township-18", role: .agent))
    }
}
