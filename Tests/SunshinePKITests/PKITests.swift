import Foundation
import SunshineModel
import SunshinePKI
import SunshineTestSupport
import Testing

@Suite struct CertificateTests {
    @Test func initWritesACountyWithIdentitiesInTheCertificates() throws {
        let pki = try TestPKI(townships: 17)
        defer { pki.remove() }
        for node in ["coordinator", "township-01", "township-17", "operator"] {
            #expect(FileManager.default.fileExists(atPath: pki.directory.certificatePath(for: node)))
        }
        #expect(!FileManager.default.fileExists(atPath: pki.directory.certificatePath(for: "township-18")))
        let township = try pki.summary(of: "township-07")
        #expect(township.identity == (try NodeIdentity(node: "township-07", role: .agent)))
        #expect(township.hosts.isEmpty)
        let coordinator = try pki.summary(of: "coordinator")
        #expect(coordinator.identity == (try NodeIdentity(node: "coordinator", role: .coordinator)))
        #expect(coordinator.hosts == ["localhost", "127.0.0.1"])
        #expect(try pki.summary(of: "operator").identity?.role == .operator)
        let ca = try CertificateSummary(PKIDirectory.readCertificate(at: pki.directory.caCertificatePath))
        #expect(ca.isCertificateAuthority)
        #expect(ca.identity == nil)
    }

    @Test func privateKeysAreWrittenOwnerOnly() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        for path in [pki.directory.caKeyPath, pki.directory.keyPath(for: "township-01")] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func existingCertificatesAreNeverReplacedWithoutForce() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let before = try String(contentsOfFile: pki.directory.keyPath(for: "township-01"), encoding: .utf8)
        #expect(throws: PKIError.fileExists(pki.directory.caCertificatePath)) {
            try pki.directory.initialize(townships: 3, coordinatorHosts: [])
        }
        #expect(throws: PKIError.fileExists(pki.directory.certificatePath(for: "township-01"))) {
            try pki.directory.issue(try NodeIdentity(node: "township-01", role: .agent))
        }
        #expect(try String(contentsOfFile: pki.directory.keyPath(for: "township-01"), encoding: .utf8) == before)
        try pki.directory.issue(try NodeIdentity(node: "township-01", role: .agent), force: true)
        #expect(try String(contentsOfFile: pki.directory.keyPath(for: "township-01"), encoding: .utf8) != before)
    }

    @Test func issueAddsANodeSignedByTheExistingCA() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try pki.directory.issue(try NodeIdentity(node: "operator-alice", role: .operator))
        let summary = try pki.summary(of: "operator-alice")
        #expect(summary.identity == (try NodeIdentity(node: "operator-alice", role: .operator)))
        let ca = try PKIDirectory.readCertificate(at: pki.directory.caCertificatePath)
        #expect(summary.issuer == ca.subject.description)
    }

    @Test(arguments: ["", "Township-01", "1township", "town ship", "township_01", String(repeating: "a", count: 65)])
    func invalidNodeNamesAreRefused(_ name: String) throws {
        #expect(throws: IdentityError.invalidNodeName(name)) {
            try NodeIdentity(node: name, role: .agent)
        }
    }

    @Test(arguments: ["operator", "operator-alice", "operator-2"])
    func operatorsAreNamedOperatorOrOperatorDashName(_ name: String) throws {
        #expect(try NodeIdentity(node: name, role: .operator).node == name)
    }

    @Test(arguments: ["township-04", "operators", "operator-", "alice", "ops-operator"])
    func anOperatorNamedOtherwiseIsRefused(_ name: String) throws {
        #expect(throws: IdentityError.notAnOperatorName(name)) {
            try NodeIdentity(node: name, role: .operator)
        }
    }

    @Test(arguments: [("operator", NodeRole.agent), ("operator-alice", .agent), ("operator-alice", .coordinator)])
    func anOperatorsNameNamesNoOtherRole(_ name: String, role: NodeRole) throws {
        #expect(throws: IdentityError.operatorName(name, role: role)) {
            try NodeIdentity(node: name, role: role)
        }
    }

    @Test func unreadableFilesSayWhichFile() throws {
        #expect(throws: PKIError.unreadable(path: "/nonexistent/ca.pem", reason: "no such file")) {
            try PKIDirectory.readCertificate(at: "/nonexistent/ca.pem")
        }
        let path = NSTemporaryDirectory() + UUID().uuidString
        try "not a certificate".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: PKIError.unreadable(path: path, reason: "it is not a PEM certificate")) {
            try PKIDirectory.readCertificate(at: path)
        }
    }

    @Test func ipAddressesBecomeIPSubjectAlternativeNames() throws {
        let authority = try CertificateAuthority.create()
        let keyed = try authority.issue(try NodeIdentity(node: "coordinator", role: .coordinator), hosts: ["county.example", "10.0.0.7", "::1", "fe80::1:2"])
        #expect(try CertificateSummary(keyed.certificate).hosts == ["county.example", "10.0.0.7", "0:0:0:0:0:0:0:1", "fe80:0:0:0:0:0:1:2"])
    }
}

@Suite struct RevocationListTests {
    @Test func parsesSerialsAndFingerprintsWithCommentsAndSeparators() throws {
        let fingerprint = String(repeating: "ab", count: 32)
        let list = try RevocationList(parsing: """
            # lost laptop
            serial:00:5C:0F
            sha256:\(fingerprint.uppercased())   # township-07

            \(String(repeating: "cd", count: 32))
            0a1b
            """)
        #expect(list.serials == ["5c0f", "0a1b"])
        #expect(list.fingerprints == [fingerprint, String(repeating: "cd", count: 32)])
    }

    @Test(arguments: ["serial:xyz", "sha256:abcd", "hello world"])
    func rejectsLinesThatAreNeitherSerialNorFingerprint(_ line: String) {
        #expect(throws: PKIError.invalidRevocationEntry(line: 2, text: line)) {
            try RevocationList(parsing: "# header\n\(line)\n")
        }
    }

    @Test func revokesByEitherSerialOrFingerprint() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let one = try pki.summary(of: "township-01")
        let two = try pki.summary(of: "township-02")
        let three = try pki.summary(of: "township-03")
        let list = try RevocationList(parsing: "serial:\(one.serial)\nsha256:\(two.fingerprint)\n")
        #expect(list.revokes(one))
        #expect(list.revokes(two))
        #expect(!list.revokes(three))
    }
}
