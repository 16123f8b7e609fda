import ArgumentParser
import Foundation
import Logging
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineWire

/// Option groups contribute the flags they parsed to the command's ``Settings``.
protocol SettingFlags {
    var flags: [Setting: String?] { get }
}

extension Settings {
    /// The settings of a command made of these option groups.
    init(_ groups: any SettingFlags..., environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(
            flags: groups.reduce(into: [:]) { flags, group in flags.merge(group.flags) { $1 } },
            environment: environment)
    }

    /// A node id from `setting`, checked against the node-id rule.
    func nodeName(_ setting: Setting, default fallback: String? = nil, missing: String) throws -> String {
        let expected = "a node id (1–64 lower-case letters, digits and '-', starting with a letter)"
        if let fallback, try !isSet(setting) { return fallback }
        return try required(setting, expected: expected, missing: missing) { NodeName.isValid($0) ? $0 : nil }
    }

    /// A `HOST:PORT` address from `setting`.
    func endpoint(_ setting: Setting, default fallback: String) throws -> Endpoint {
        try value(
            setting, default: Endpoint(parsing: fallback)!, expected: "HOST:PORT (for example 127.0.0.1:7420)",
            Endpoint.init(parsing:))
    }
}

/// `--config FILE` (env SUNSHINE_CONFIG): a JSON file of settings, below flags and variables.
struct ConfigFileOptions: ParsableArguments, SettingFlags {
    @Option(
        help: "A JSON file of settings, one key per setting (env SUNSHINE_CONFIG); flags and variables win over it.")
    var config: String?

    var flags: [Setting: String?] { [.config: config] }
}

extension Settings {
    /// The path in `setting`, which must name a readable file (a certificate, a key, a list).
    func readableFile(_ setting: Setting, what: String) throws -> String? {
        guard let found = try text(setting) else { return nil }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: found.value, isDirectory: &isDirectory)
        guard exists, !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: found.value) else {
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "a directory" : "not readable"
            throw CommandFailure(
                "\(found.origin) must be a readable file (\(what)), not \"\(found.value)\" (\(reason)).")
        }
        return found.value
    }

    /// The directory in `setting`, which must exist.
    func existingDirectory(_ setting: Setting, what: String) throws -> String? {
        guard let found = try text(setting) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: found.value, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CommandFailure(
                "\(found.origin) must be a directory (\(what)), not \"\(found.value)\" (no such directory).")
        }
        return found.value
    }

    /// A whole number from `setting` within `range`, described in `unit`s.
    func number(_ setting: Setting, default fallback: Int, in range: ClosedRange<Int>, unit: String) throws -> Int {
        try value(
            setting, default: fallback, expected: "a number of \(unit) from \(range.lowerBound) to \(range.upperBound)"
        ) {
            Int($0).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    /// The largest frame this node accepts, announced in `hello` (DESIGN §3.1).
    func maxFrame() throws -> Int {
        try number(
            .maxFrame, default: Frame.defaultMaxFrame, in: Frame.minimumMaxFrame...Frame.maximumMaxFrame, unit: "bytes")
    }
}

/// `--pki DIR [--node NAME]` or `--cert FILE --key FILE --ca FILE`.
struct CredentialOptions: ParsableArguments, SettingFlags {
    @Option(
        help: "Directory made by `sunshine certs init` (env SUNSHINE_PKI); uses DIR/ca.pem, DIR/NODE.pem, DIR/NODE.key."
    )
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
        let cert = try settings.readableFile(.cert, what: "this node's PEM certificate")
        let key = try settings.readableFile(.key, what: "this node's PEM private key")
        let ca = try settings.readableFile(.ca, what: "the cluster CA's PEM certificate")
        if cert != nil || key != nil || ca != nil {
            guard let cert, let key, let ca else {
                if let file = settings.file {
                    throw CommandFailure("\(file): cert, key and ca go together; expected all three, or pki instead.")
                }
                throw CommandFailure("--cert, --key and --ca go together; give all three, or --pki DIR instead.")
            }
            return NodeCredentials(certificatePath: cert, keyPath: key, caPath: ca)
        }
        guard let pki = try settings.existingDirectory(.pki, what: "made by `sunshine certs init`") else {
            if let file = settings.file {
                throw CommandFailure(
                    "\(file): pki is missing; expected the directory made by `sunshine certs init`, "
                        + "or cert, key and ca."
                )
            }
            throw CommandFailure(
                "No certificates given: pass --pki DIR (made by `sunshine certs init`) or --cert, --key and --ca.")
        }
        return NodeCredentials(pki: PKIDirectory(path: pki), node: node)
    }

    /// Refuses, before anything starts, a certificate that is not `node`'s as a `role`: an agent
    /// given another township's certificate or an operator's would otherwise retry for ever
    /// against a coordinator that refuses each hello, and a coordinator with a township's would
    /// listen under a name it is not.
    static func requireIdentity(node: String, role: NodeRole, in credentials: NodeCredentials, command: String) throws {
        let path = credentials.certificatePath
        let expected = role == .coordinator && node == "coordinator" ? "the coordinator's certificate" : "\(node)'s \(role.rawValue) certificate"
        let issue = "`sunshine certs issue --node \(node) --role \(role.rawValue)`"
        guard let summary = try? CertificateSummary(PKIDirectory.readCertificate(at: path)) else {
            throw CommandFailure("\(path) is not a PEM certificate; `sunshine \(command)` needs \(expected).")
        }
        guard let identity = summary.identity else {
            throw CommandFailure(
                "\(path) is not a Sunshine node's certificate (\(summary.identityRefusal ?? "no identity")); "
                    + "`sunshine \(command)` needs \(expected) (issue one with \(issue)).")
        }
        guard identity.node != node || identity.role != role else { return }
        throw CommandFailure(
            "\(path) is the certificate of \(identity.node), \(identity.role.withArticle); "
                + "`sunshine \(command)` needs \(expected) (issue one with \(issue)).")
    }
}

/// How the daemons log: the level, and text lines or JSON lines on standard error.
struct LoggingOptions: ParsableArguments, SettingFlags {
    @Option(help: "trace, debug, info, notice, warning or error (env SUNSHINE_LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(help: "text, or json for one JSON object per line (env SUNSHINE_LOG_FORMAT; default text).")
    var logFormat: String?

    var flags: [Setting: String?] { [.logLevel: logLevel, .logFormat: logFormat] }

    enum Format: String {
        case text, json
    }

    /// The configured level (`fallback` when none is set) and format.
    static func configuration(_ settings: Settings, default fallback: Logger.Level = .info) throws -> (
        Logger.Level, Format
    ) {
        let level = try settings.value(
            .logLevel, default: fallback, expected: "a log level (trace, debug, info, notice, warning or error)",
            Logger.Level.init(rawValue:)
        )
        let format = try settings.value(
            .logFormat, default: .text, expected: "a log format (text or json)", Format.init(rawValue:))
        return (level, format)
    }

    /// Starts logging to standard error at the configured level, in the configured format.
    static func bootstrap(_ settings: Settings, default fallback: Logger.Level = .info) throws {
        let (level, format) = try configuration(settings, default: fallback)
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLinesLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// `--data DIR` (env SUNSHINE_DATA): where a node keeps its store, `DIR/NODE.sqlite`.
struct DataOptions: ParsableArguments, SettingFlags {
    @Option(help: "Directory for this node's database (env SUNSHINE_DATA; default ./sunshine-data).")
    var data: String?

    var flags: [Setting: String?] { [.data: data] }

    /// The data directory (`sunshine-data` when nothing sets it).
    static func directory(_ settings: Settings) throws -> String {
        try settings.string(.data, default: "sunshine-data")
    }

    static func openStore(node: String, _ settings: Settings) throws -> SQLiteStore {
        try SQLiteStore(path: try storePath(node: node, settings), node: node)
    }

    /// Where the store of `node` is in the data directory.
    static func storePath(node: String, _ settings: Settings) throws -> String {
        (try directory(settings) as NSString).appendingPathComponent("\(node).sqlite")
    }
}

/// An error the CLI prints as its single sentence before exiting non-zero.
struct CommandFailure: Error, CustomStringConvertible, Equatable {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
