import Foundation
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineTestSupport
import SunshineWire
import Testing

/// `deploy/pki/issue-with-openssl.sh` and the `openssl` command, for counties whose PKI runs on
/// OpenSSL: what it issues must be read, accepted and refused exactly like Sunshine's own.
enum OpenSSLIssuer {
    static let script = RepositoryFiles.path("deploy/pki/issue-with-openssl.sh")

    static let isAvailable = isInstalled("openssl")

    /// Whether `command` is on PATH.
    static func isInstalled(_ command: String) -> Bool {
        (try? runProcess("sh", ["-c", "command -v \(command)"]).status == 0) ?? false
    }

    /// Runs the script with `arguments`.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProcess("bash", [script] + arguments)
    }

    /// A county issued by the script into a fresh directory.
    static func county(townships: Int = 2, hosts: [String] = []) throws -> TestPKI {
        let path = TestPKI.temporaryPath()
        let result = try run(
            ["init", "--out", path, "--townships", String(townships)] + hosts.flatMap { ["--host", $0] })
        guard result.status == 0 else { throw ScriptFailure(output: result.output) }
        return try TestPKI(adopting: PKIDirectory(path: path))
    }

    /// Signs a certificate with `subject` by the CA in `pki` with plain openssl, as an issuer that
    /// does not know Sunshine's rules would, and writes it as `DIR/NAME.pem` / `DIR/NAME.key`.
    static func sign(subject: String, as name: String, in pki: TestPKI) throws {
        let directory = pki.directory
        let commands = """
            set -euo pipefail
            cd "$1"
            printf 'basicConstraints = critical, CA:FALSE\\nkeyUsage = critical, digitalSignature\\n' > "$2.ext"
            printf 'extendedKeyUsage = serverAuth, clientAuth\\n' >> "$2.ext"
            openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2.key"
            openssl req -new -key "$2.key" -subj "$3" -out "$2.csr"
            openssl x509 -req -in "$2.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \\
                -days 30 -sha256 -extfile "$2.ext" -out "$2.pem"
            rm "$2.csr" "$2.ext"
            """
        let result = try runProcess("bash", ["-c", commands, "sign", directory.path, name, subject])
        guard result.status == 0 else { throw ScriptFailure(output: result.output) }
    }

    struct ScriptFailure: Error, CustomStringConvertible {
        var output: String
        var description: String { "the OpenSSL issuance failed: \(output)" }
    }
}

@Suite(
    .enabled(
        if: OpenSSLIssuer.isAvailable, "openssl is not on PATH; install it (apt-get install openssl) to run these."),
    .timeLimit(.minutes(2))
)
struct OpenSSLIssuedCertificateTests {
    @Test func openSSLIssuedNodesCompleteHelloLikeSunshinesOwn() async throws {
        let pki = try OpenSSLIssuer.county()
        defer { pki.remove() }
        // A node Sunshine adds later with the OpenSSL CA (`sunshine certs issue` on the same directory).
        try pki.directory.issue(try NodeIdentity(node: "township-09", role: .agent))
        try await withTestServer(pki: pki) { endpoint, responder in
            for (node, role) in [("township-01", NodeRole.agent), ("operator", .operator), ("township-09", .agent)] {
                try await withClient(node, role: role, pki: pki, to: endpoint) { connection, hello in
                    #expect(hello.node == "coordinator")
                    #expect(hello.checkpoint == 42)
                    #expect(connection.peer?.identity == (try NodeIdentity(node: "coordinator", role: .coordinator)))
                    let me = try await connection.call(
                        "whoami", params: EmptyResult(), returning: TestResponder.Tagged.self)
                    #expect(me.tag == node)
                }
            }
            #expect(responder.hellos == ["township-01", "operator", "township-09"])
        }
    }

    @Test func theSummaryReadsOpenSSLIssuedCertificatesLikeSunshinesOwn() throws {
        let pki = try OpenSSLIssuer.county(townships: 3, hosts: ["county.example", "10.0.0.7", "::1"])
        defer { pki.remove() }
        let ca = try CertificateSummary(PKIDirectory.readCertificate(at: pki.directory.caCertificatePath))
        #expect(ca.isCertificateAuthority)
        #expect(ca.identity == nil)
        #expect(ca.subject == "CN=Sunshine county CA,O=Sunshine")
        let coordinator = try pki.summary(of: "coordinator")
        #expect(coordinator.identity == (try NodeIdentity(node: "coordinator", role: .coordinator)))
        #expect(coordinator.hosts == ["county.example", "10.0.0.7", "0:0:0:0:0:0:0:1"])
        #expect(coordinator.issuer == ca.subject)
        #expect(!coordinator.isCertificateAuthority)
        for (node, role) in [("township-01", NodeRole.agent), ("township-03", .agent), ("operator", .operator)] {
            let summary = try pki.summary(of: node)
            #expect(summary.identity == (try NodeIdentity(node: node, role: role)))
            #expect(summary.subject == "CN=\(node),OU=\(role.rawValue),O=Sunshine")
            #expect(summary.hosts.isEmpty)
            #expect(summary.identityRefusal == nil)
            #expect(summary.isValid(at: Date()))
            let days = summary.notValidAfter.timeIntervalSince(summary.notValidBefore) / 86_400
            #expect((399...401).contains(days))
        }
        // The files of `sunshine certs init`, keys owner-only.
        let files = try FileManager.default.contentsOfDirectory(atPath: pki.directory.path).sorted()
        let nodes = ["ca", "coordinator", "operator", "township-01", "township-02", "township-03"]
        #expect(files == nodes.flatMap { ["\($0).key", "\($0).pem"] })
        for node in nodes {
            let attributes = try FileManager.default.attributesOfItem(atPath: pki.directory.path + "/\(node).key")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(node).key")
        }
    }

    @Test func aCertificateFromADifferentOpenSSLCAIsRefusedAtTheHandshake() async throws {
        let pki = try OpenSSLIssuer.county()
        let other = try OpenSSLIssuer.county()
        defer {
            pki.remove()
            other.remove()
        }
        let foreign = try PKIDirectory.readCertificate(at: other.directory.certificatePath(for: "township-01"))
        try pki.directory.write(
            KeyedCertificate(
                certificate: foreign,
                privateKey: try PKIDirectory.readPrivateKey(at: other.directory.keyPath(for: "township-01"))),
            for: "foreign-township-01"
        )
        try await withTestServer(pki: pki) { endpoint, responder in
            try await withClient("township-02", pki: pki, to: endpoint) { bystander, _ in
                let answer: [String: Any]?? = try? await withRawClient(
                    to: endpoint, pki: pki, node: "foreign-township-01"
                ) { client in
                    try? await client.sendHello(as: "township-01")
                    return await client.next()
                }
                #expect((answer ?? nil)?["result"] == nil, "the coordinator answered a foreign CA's township")
                _ = try await bystander.call("ping", params: PingParams(), returning: EmptyResult.self)
            }
            #expect(responder.hellos == ["township-02"])
        }
    }

    @Test(arguments: [
        ("/O=Sunshine/OU=agent/CN=county", "\"county\" is reserved"),
        ("/O=Sunshine/OU=coordinator/CN=county", "\"county\" is reserved"),
        ("/O=Sunshine/OU=agent/CN=coordinator", "\"coordinator\" is reserved"),
        ("/O=Sunshine/OU=operator/CN=coordinator", "\"coordinator\" is reserved"),
        ("/O=Sunshine/OU=operator/CN=township-04", "operators are named operator or operator-NAME"),
        ("/O=Sunshine/OU=agent/CN=operator-alice", "is an operator's name"),
        ("/O=Sunshine/OU=agent/OU=operator/CN=township-04", "2 OUs"),
        ("/O=Sunshine/OU=agent/CN=township-04/CN=township-05", "2 CNs"),
    ])
    func openSSLCertificatesNamingWhatSunshineRefusesAreForbiddenAtTheHandshake(_ subject: String, refusal: String)
        async throws
    {
        let pki = try OpenSSLIssuer.county()
        defer { pki.remove() }
        try OpenSSLIssuer.sign(subject: subject, as: "elsewhere", in: pki)
        try await withTestServer(pki: pki) { endpoint, responder in
            let frame = try await withRawClient(to: endpoint, pki: pki, node: "elsewhere") { client in
                try? await client.sendHello(as: subject.contains("CN=county") ? "county" : "coordinator")
                return await client.next()
            }
            expectOneForbiddenSentence(try #require(frame), containing: refusal)
            try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
            }
            #expect(responder.hellos == ["township-01"])
        }
    }
}

/// The script's own refusals and its safety on a second run.
@Suite(
    .enabled(
        if: OpenSSLIssuer.isAvailable, "openssl is not on PATH; install it (apt-get install openssl) to run these."))
struct OpenSSLIssuanceScriptTests {
    @Test(arguments: [
        (["--node", "county", "--role", "agent"], "\"county\" is reserved for the county and cannot name an agent"),
        (
            ["--node", "county", "--role", "coordinator"],
            "\"county\" is reserved for the county and cannot name a coordinator"
        ),
        (
            ["--node", "coordinator", "--role", "agent"],
            "\"coordinator\" is reserved for the county and cannot name an agent"
        ),
        (
            ["--node", "coordinator", "--role", "operator"],
            "\"coordinator\" is reserved for the county and cannot name an operator"
        ),
        (["--node", "Township 04", "--role", "agent"], "\"Township 04\" is not a valid node id"),
        (["--node", "ca", "--role", "agent"], "would be written over the CA's own ca.pem and ca.key"),
        (["--node", "township-04", "--role", "clerk"], "--role clerk is not a role"),
        (["--node", "township-04", "--role", "agent", "--host", "a,DNS:evil"], "is not a host name or IP address"),
        (
            ["--node", "township-04", "--role", "operator"],
            "\"township-04\" cannot name an operator: operators are named operator or operator-NAME"
        ),
        (["--node", "operator-alice", "--role", "agent"], "\"operator-alice\" is an operator's name"),
        (
            ["--node", "township-01", "--role", "coordinator"],
            "township-01.pem already exists; pass --force to replace it"
        ),
    ])
    func issueRefusesInOneSentenceAndWritesNothing(_ arguments: [String], sentence: String) throws {
        let pki = try OpenSSLIssuer.county()
        defer { pki.remove() }
        let before = try contents(of: pki)
        let result = try OpenSSLIssuer.run(["issue", "--out", pki.directory.path] + arguments)
        #expect(result.status != 0)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1, "\(result.output)")
        #expect(lines.first?.contains(sentence) == true, "\(result.output)")
        #expect(try contents(of: pki) == before)
    }

    @Test func runningInitAgainKeepsEveryFileAndAddsOnlyWhatIsMissing() throws {
        let pki = try OpenSSLIssuer.county(townships: 2)
        defer { pki.remove() }
        let before = try contents(of: pki)
        let again = try OpenSSLIssuer.run(["init", "--out", pki.directory.path, "--townships", "2"])
        #expect(again.status == 0, "\(again.output)")
        #expect(try contents(of: pki) == before)
        let more = try OpenSSLIssuer.run(["init", "--out", pki.directory.path, "--townships", "3"])
        #expect(more.status == 0, "\(more.output)")
        let after = try contents(of: pki)
        #expect(after.filter { before[$0.key] != nil } == before)
        #expect(Set(after.keys).subtracting(before.keys) == ["township-03.key", "township-03.pem"])
        #expect(try pki.summary(of: "township-03").issuer == (try pki.summary(of: "township-01")).issuer)
        let issuedAgain = try OpenSSLIssuer.run([
            "issue", "--out", pki.directory.path, "--node", "operator", "--role", "operator",
        ])
        #expect(issuedAgain.status == 0, "\(issuedAgain.output)")
        #expect(try contents(of: pki) == after)
    }

    @Test func initRefusesOtherHostsForTheCoordinatorUnlessForced() throws {
        let pki = try OpenSSLIssuer.county()
        defer { pki.remove() }
        let before = try contents(of: pki)
        let refused = try OpenSSLIssuer.run([
            "init", "--out", pki.directory.path, "--townships", "2", "--host", "county.example",
        ])
        #expect(refused.status != 0)
        #expect(
            refused.output.contains("coordinator.pem already exists; pass --force to replace it"), "\(refused.output)")
        #expect(try contents(of: pki) == before)
        let forced = try OpenSSLIssuer.run([
            "init", "--out", pki.directory.path, "--townships", "2", "--host", "county.example", "--force",
        ])
        #expect(forced.status == 0, "\(forced.output)")
        #expect(try pki.summary(of: "coordinator").hosts == ["county.example"])
        #expect(try contents(of: pki)["ca.key"] != before["ca.key"], "--force makes a new CA")
    }

    @Test(
        .enabled(
            if: OpenSSLIssuer.isInstalled("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)."))
    func theScriptIsShellcheckClean() throws {
        let result = try runProcess("shellcheck", [OpenSSLIssuer.script])
        #expect(result.status == 0, "\(result.output)")
    }

    private func contents(of pki: TestPKI) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: pki.directory.path) {
            files[name] = FileManager.default.contents(atPath: pki.directory.path + "/" + name)
        }
        return files
    }
}
