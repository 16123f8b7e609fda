import ArgumentParser
import Foundation
import SunshineModel
import SunshinePKI

struct Certs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create and inspect the cluster's certificates.",
        subcommands: [Init.self, Issue.self, Show.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the cluster CA and a certificate for the coordinator, every township and one operator."
        )

        @Option(name: .customLong("out"), help: "Directory to write into (env SUNSHINE_PKI).")
        var out: String?

        @Option(help: "How many townships (township-01 … township-NN).")
        var townships = 17

        @Option(name: .customLong("host"), help: "A host name or IP address agents dial the coordinator at; repeatable.")
        var hosts: [String] = []

        @Flag(help: "Replace existing certificates and keys (the old ones stop working).")
        var force = false

        func validate() throws {
            guard (1...999).contains(townships) else { throw ValidationError("--townships must be between 1 and 999.") }
        }

        func run() throws {
            guard let out = try Settings(flags: [.pki: out]).string(.pki) else {
                throw ValidationError("Say where to write the certificates with --out DIR.")
            }
            let directory = PKIDirectory(path: out)
            let nodes = try directory.initialize(townships: townships, coordinatorHosts: hosts.isEmpty ? ["localhost", "127.0.0.1"] : hosts, force: force)
            print("Wrote the CA and \(nodes.count) node certificates to \(out):")
            print("  ca.pem, ca.key (keep ca.key offline once every certificate is issued)")
            for node in nodes { print("  \(node.node).pem, \(node.node).key  [\(node.role.rawValue)]") }
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue one more node certificate with the existing CA.")

        @Option(name: [.customLong("pki"), .customLong("out")], help: "Directory holding ca.pem and ca.key (env SUNSHINE_PKI).")
        var pki: String?

        @Option(help: "The node id, e.g. township-18 or operator-alice.")
        var node: String

        @Option(help: "coordinator, agent or operator.")
        var role: String

        @Option(name: .customLong("host"), help: "A host name or IP address this node serves on; repeatable.")
        var hosts: [String] = []

        @Flag(help: "Replace an existing certificate and key for this node.")
        var force = false

        func validate() throws {
            guard let role = NodeRole(rawValue: role) else {
                throw ValidationError("--role \(role) is not a role; use coordinator, agent or operator.")
            }
            do {
                _ = try NodeIdentity(node: node, role: role)
            } catch {
                throw ValidationError(error.description)
            }
        }

        func run() throws {
            guard let pki = try Settings(flags: [.pki: pki]).string(.pki), let role = NodeRole(rawValue: role) else {
                throw ValidationError("Say where the CA is with --pki DIR.")
            }
            let directory = PKIDirectory(path: pki)
            let hosts = self.hosts.isEmpty && role == .coordinator ? ["localhost", "127.0.0.1"] : self.hosts
            try directory.issue(try NodeIdentity(node: node, role: role), hosts: hosts, force: force)
            print("Wrote \(directory.certificatePath(for: node)) and \(directory.keyPath(for: node)) [\(role.rawValue)].")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a certificate's subject, role, validity and fingerprint.")

        @Argument(help: "A PEM certificate file.")
        var file: String

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() throws {
            let certificate = try PKIDirectory.readCertificate(at: file)
            let summary = try CertificateSummary(certificate)
            let now = Date()
            let state = summary.isValid(at: now) ? "valid" : (now < summary.notValidBefore ? "not yet valid" : "expired")
            let formatter = ISO8601DateFormatter()
            // Why a certificate that is not the CA's grants no node identity.
            let refusal = summary.isCertificateAuthority ? nil : summary.identityRefusal
            if json {
                let object: [String: Any] = [
                    "subject": summary.subject, "issuer": summary.issuer,
                    "node": summary.identity?.node ?? NSNull(), "role": summary.identity?.role.rawValue ?? NSNull(),
                    "notBefore": formatter.string(from: summary.notValidBefore),
                    "notAfter": formatter.string(from: summary.notValidAfter),
                    "state": state, "serial": summary.serial, "sha256": summary.fingerprint,
                    "hosts": summary.hosts, "ca": summary.isCertificateAuthority,
                    "refusal": refusal ?? NSNull(),
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("subject:   \(summary.subject)")
            print("issuer:    \(summary.issuer)")
            if let identity = summary.identity {
                print("node:      \(identity.node)")
                print("role:      \(identity.role.rawValue)")
            } else if summary.isCertificateAuthority {
                print("role:      certificate authority")
            } else {
                print("role:      none (not a Sunshine node certificate)")
                if let refusal { print("refusal:   \(refusal)") }
            }
            print("valid:     \(formatter.string(from: summary.notValidBefore)) to \(formatter.string(from: summary.notValidAfter)) (\(state))")
            if !summary.hosts.isEmpty { print("hosts:     \(summary.hosts.joined(separator: ", "))") }
            print("serial:    \(summary.serial)")
            print("sha256:    \(summary.fingerprint)")
        }
    }
}
