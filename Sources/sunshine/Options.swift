import ArgumentParser
import Foundation
import Logging
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore

/// Option groups contribute the flags they parsed to the command's ``Settings``.
protocol SettingFlags {
    var flags: [Setting: String?] { get }
}

extension Settings {
    /// The settings of a command made of these option groups.
    init(_ groups: any SettingFlags...) {
        self.init(flags: groups.reduce(into: [:]) { flags, group in flags.merge(group.flags) { $1 } })
    }

    /// A node id from `setting`, checked against the node-id rule.
    func nodeName(_ setting: Setting, default fallback: String? = nil, missing: String) throws -> String {
        let expected = "a node id (1–64 lower-case letters, digits and '-', starting with a letter)"
        if let fallback, try text(setting) == nil { return fallback }
        return try required(setting, expected: expected, missing: missing) { NodeName.isValid($0) ? $0 : nil }
    }

    /// A `HOST:PORT` address from `setting`.
    func endpoint(_ setting: Setting, default fallback: String) throws -> Endpoint {
        try value(setting, default: Endpoint(parsing: fallback)!, expected: "HOST:PORT (for example 127.0.0.1:7420)", Endpoint.init(parsing:))
    }
}

/// `--pki DIR [--node NAME]` or `--cert FILE --key FILE --ca FILE`.
struct CredentialOptions: ParsableArguments, SettingFlags {
    @Option(help: "Directory made by `sunshine certs init` (env SUNSHINE_PKI); uses DIR/ca.pem, DIR/NODE.pem, DIR/NODE.key.")
    var pki: String?

    @Option(help: "This node's certificate, PEM (env SUNSHINE_CERT).")
    var cert: String?

    @Option(help: "This node's private key, PEM (env SUNSHINE_KEY).")
    var key: String?

    @Option(help: "The cluster CA certificate, PEM (env SUNSHINE_CA).")
    var ca: String?

    var flags: [Setting: String?] { [.pki: pki, .cert: cert, .key: key, .ca: ca] }

    /// The credentials for `node`, or one sentence naming what is missing.
    static func resolve(node: String, _ settings: Settings) throws -> NodeCredentials {
        let cert = try settings.string(.cert)
        let key = try settings.string(.key)
        let ca = try settings.string(.ca)
        if cert != nil || key != nil || ca != nil {
            guard let cert, let key, let ca else {
                throw CommandFailure("--cert, --key and --ca go together; give all three, or --pki DIR instead.")
            }
            return NodeCredentials(certificatePath: cert, keyPath: key, caPath: ca)
        }
        guard let pki = try settings.string(.pki) else {
            throw CommandFailure("No certificates given: pass --pki DIR (made by `sunshine certs init`) or --cert, --key and --ca.")
        }
        return NodeCredentials(pki: PKIDirectory(path: pki), node: node)
    }
}

struct LoggingOptions: ParsableArguments, SettingFlags {
    @Option(help: "trace, debug, info, notice, warning or error (env SUNSHINE_LOG_LEVEL).")
    var logLevel: String?

    var flags: [Setting: String?] { [.logLevel: logLevel] }

    /// Starts logging to standard error at the configured level (`fallback` when none is set).
    static func bootstrap(_ settings: Settings, default fallback: Logger.Level = .info) throws {
        let level = try settings.value(
            .logLevel, default: fallback, expected: "a log level (trace, debug, info, notice, warning or error)", Logger.Level.init(rawValue:)
        )
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// `--data DIR` (env SUNSHINE_DATA): where a node keeps its store, `DIR/NODE.sqlite`.
struct DataOptions: ParsableArguments, SettingFlags {
    @Option(help: "Directory for this node's database (env SUNSHINE_DATA; default ./sunshine-data).")
    var data: String?

    var flags: [Setting: String?] { [.data: data] }

    static func openStore(node: String, _ settings: Settings) throws -> SQLiteStore {
        let directory = try settings.string(.data, default: "sunshine-data")
        return try SQLiteStore(path: (directory as NSString).appendingPathComponent("\(node).sqlite"), node: node)
    }
}

/// An error the CLI prints as its single sentence before exiting non-zero.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
