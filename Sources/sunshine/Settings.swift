import ArgumentParser
import Configuration
import Foundation
import SunshineModel

/// A setting every command resolves the same way, with the flag that sets it on the command line.
/// Its environment variable is derived by swift-configuration from the key: `SUNSHINE_` and the
/// key in upper snake case (`heartbeatMs` → `SUNSHINE_HEARTBEAT_MS`); in a configuration file it
/// is the key itself.
struct Setting: Hashable, Sendable {
    /// What a configuration file must hold for the setting: a JSON string or a JSON integer.
    enum Kind: Hashable, Sendable {
        case text
        case number

        /// What a value of the wrong JSON type is told it should have been.
        var expected: String {
            switch self {
            case .text: "text (a JSON string)"
            case .number: "a whole number"
            }
        }

        var configType: ConfigType {
            switch self {
            case .text: .string
            case .number: .int
            }
        }
    }

    var key: String
    var flag: String
    var kind: Kind = .text

    static let config = Setting(key: "config", flag: "--config")
    static let listen = Setting(key: "listen", flag: "--listen")
    static let coordinator = Setting(key: "coordinator", flag: "--coordinator")
    static let data = Setting(key: "data", flag: "--data")
    static let node = Setting(key: "node", flag: "--node")
    /// Operator commands' `--node`: the operator's certificate name.
    static let operatorNode = Setting(key: "operator", flag: "--node")
    static let pki = Setting(key: "pki", flag: "--pki")
    static let cert = Setting(key: "cert", flag: "--cert")
    static let key = Setting(key: "key", flag: "--key")
    static let ca = Setting(key: "ca", flag: "--ca")
    static let revoked = Setting(key: "revoked", flag: "--revoked")
    static let heartbeatMs = Setting(key: "heartbeatMs", flag: "--heartbeat-ms", kind: .number)
    static let maxFrame = Setting(key: "maxFrame", flag: "--max-frame", kind: .number)
    static let batchRecords = Setting(key: "batchRecords", flag: "--batch-records", kind: .number)
    static let batchBytes = Setting(key: "batchBytes", flag: "--batch-bytes", kind: .number)
    static let batchWindow = Setting(key: "batchWindow", flag: "--batch-window", kind: .number)
    static let logLevel = Setting(key: "logLevel", flag: "--log-level")
    static let logFormat = Setting(key: "logFormat", flag: "--log-format")
}

/// The one resolver of settings for every command (DESIGN §5): a flag wins over the environment,
/// which wins over the configuration file, which wins over the built-in default. The sources are
/// swift-configuration providers in that order; the file is read by its `JSONSnapshot`.
///
/// A command that offers `--config` (``Setting/config`` among its flags) reads the file named by
/// the flag or `SUNSHINE_CONFIG`. The file is checked whole when the settings are made — valid
/// JSON, one object, no member named twice, no key the command does not take — and a file that
/// fails a check makes every lookup throw its one sentence, so the command stops at its start.
struct Settings {
    private struct Source {
        var lookup: (AbsoluteConfigKey, ConfigType) throws -> LookupResult
        /// Whether values here are typed (the file's JSON) rather than text (flags, variables).
        var typed = false
        /// How a person names where a value came from, given the setting and the provider's key.
        var origin: (Setting, String) -> String
        /// How a value found here is shown back in an error, given the setting.
        var literal: (Setting) -> String
        /// Whether the file holds an object or an array for the setting, which no setting takes
        /// (the snapshot would read its members as other keys and the setting as unset).
        var structured: (Setting) -> Bool = { _ in false }
    }

    /// A value found for a setting: its text, where it came from and how it was written there.
    private struct Found {
        var value: String
        var origin: String
        var literal: String
        /// The file held a JSON value of another type than the setting's kind.
        var mistyped = false
    }

    private var sources: [Source] = []
    private var fileFailure: CommandFailure?
    /// The configuration file in use, if the command read one.
    private(set) var file: String?

    /// - Parameters:
    ///   - flags: the values the command line gave, by setting (nil where a flag was not given);
    ///     its keys are every setting the command takes, which is what its file may hold.
    ///   - environment: the process environment (tests pass their own).
    init(flags: [Setting: String?], environment: [String: String] = ProcessInfo.processInfo.environment) {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (setting, value) in flags {
            if let value { values[AbsoluteConfigKey([setting.key])] = ConfigValue(.string(value), isSecret: false) }
        }
        let commandLine = InMemoryProvider(name: "command line", values: values)
        let variables = KeyMappingProvider(upstream: EnvironmentVariablesProvider(environmentVariables: environment)) {
            key in key.prepending(["sunshine"])
        }
        sources = [
            Source(
                lookup: commandLine.value(forKey:type:), origin: { setting, _ in setting.flag }, literal: { _ in "" }),
            Source(lookup: variables.value(forKey:type:), origin: { _, encoded in encoded }, literal: { _ in "" }),
        ]
        guard flags.keys.contains(.config) else { return }
        do {
            guard let path = try find(.config)?.value else { return }
            file = path
            let accepted = Set(flags.keys.map(\.key)).subtracting([Setting.config.key])
            let loaded = try ConfigFile(path: path, accepting: accepted)
            sources.append(
                Source(
                    lookup: loaded.snapshot.value(forKey:type:),
                    typed: true,
                    origin: { setting, _ in "\(path): \(setting.key)" },
                    literal: { setting in loaded.members[setting.key].map(ConfigFile.show) ?? "" },
                    structured: { setting in
                        loaded.members[setting.key].map { $0.objectValue != nil || $0.arrayValue != nil } ?? false
                    }
                )
            )
        } catch let failure as CommandFailure {
            fileFailure = failure
        } catch {
            fileFailure = CommandFailure("\(file ?? "The configuration file") cannot be read: \(error).")
        }
    }

    /// The first source that sets `setting`. An empty value counts as unset.
    private func find(_ setting: Setting) throws -> Found? {
        if let fileFailure { throw fileFailure }
        for source in sources {
            let key = AbsoluteConfigKey([setting.key])
            let lookup: LookupResult
            if source.structured(setting) {
                return Found(
                    value: "", origin: source.origin(setting, setting.key), literal: source.literal(setting),
                    mistyped: true)
            } else if source.typed {
                do {
                    lookup = try source.lookup(key, setting.kind.configType)
                } catch {
                    // The snapshot refuses a value of another JSON type than asked for; show it.
                    let origin = source.origin(setting, setting.key)
                    return Found(value: "", origin: origin, literal: source.literal(setting), mistyped: true)
                }
            } else {
                lookup = try source.lookup(key, .string)
            }
            let text: String? =
                switch lookup.value?.content {
                case .string(let value)?: value
                case .int(let value)?: String(value)
                default: nil
                }
            if let text, !text.isEmpty {
                let literal = source.literal(setting)
                return Found(
                    value: text, origin: source.origin(setting, lookup.encodedKey),
                    literal: literal.isEmpty ? "\"\(text)\"" : literal)
            }
        }
        return nil
    }

    /// Whether any source sets `setting`, whatever it holds.
    func isSet(_ setting: Setting) throws -> Bool {
        try find(setting) != nil
    }

    /// The value of `setting` and where it came from, or nil when no source sets it.
    func text(_ setting: Setting) throws -> (value: String, origin: String)? {
        guard let found = try find(setting) else { return nil }
        if found.mistyped { throw Self.refusal(found, expected: setting.kind.expected) }
        return (found.value, found.origin)
    }

    /// The value of `setting`, or `fallback` when nothing sets it.
    func string(_ setting: Setting, default fallback: String) throws -> String {
        try text(setting)?.value ?? fallback
    }

    func string(_ setting: Setting) throws -> String? {
        try text(setting)?.value
    }

    /// The value of `setting` read by `parse`; a value it refuses stops the command with one
    /// sentence naming where the value came from and what was expected.
    func value<T>(_ setting: Setting, default fallback: T, expected: String, _ parse: (String) -> T?) throws -> T {
        guard let found = try find(setting) else { return fallback }
        return try Self.parse(found, expected: expected, parse)
    }

    /// Like ``value(_:default:expected:_:)`` for a setting the command cannot run without. When
    /// nothing sets it, the command stops with `missing` — or, when a configuration file is in
    /// use, with a sentence naming the file, the key and what was expected.
    func required<T>(_ setting: Setting, expected: String, missing: String, _ parse: (String) -> T?) throws -> T {
        guard let found = try find(setting) else {
            throw CommandFailure(try missingSentence(setting, expected, missing))
        }
        return try Self.parse(found, expected: expected, parse)
    }

    /// What to say when nothing sets `setting`.
    func missingSentence(_ setting: Setting, _ expected: String, _ missing: String) throws -> String {
        guard let file else { return missing }
        let variable = try sources[1].lookup(AbsoluteConfigKey([setting.key]), .string).encodedKey
        return
            "\(file): \(setting.key) is missing; expected \(expected), set there, by \(setting.flag) or by \(variable)."
    }

    private static func parse<T>(_ found: Found, expected: String, _ parse: (String) -> T?) throws -> T {
        guard !found.mistyped, let value = parse(found.value) else { throw refusal(found, expected: expected) }
        return value
    }

    private static func refusal(_ found: Found, expected: String) -> CommandFailure {
        CommandFailure("\(found.origin) must be \(expected), not \(found.literal).")
    }
}

/// A configuration file: one JSON object whose members are settings by their keys, as
/// swift-configuration's `JSONSnapshot` reads it. Before the snapshot reads it, the file is checked
/// with Sunshine's strict parser, which names the byte, line and column of a syntax error and
/// refuses a member written twice (which `JSONSerialization` would settle silently, last one wins).
private struct ConfigFile {
    let snapshot: JSONSnapshot
    let members: [String: JSONValue]

    init(path: String, accepting accepted: Set<String>) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw CommandFailure("\(path) cannot be read (\(reason)); expected a JSON file of settings.")
        }
        let bytes = [UInt8](data)
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            let (line, column) = Self.position(of: error.offset, in: bytes)
            throw CommandFailure("\(path) is not valid JSON: \(error) (line \(line), column \(column)).")
        }
        guard let members = document.objectValue else {
            throw CommandFailure(
                "\(path) must hold one JSON object of settings, such as {\"data\": \"/var/lib/sunshine\"}.")
        }
        if let unknown = members.keys.sorted().first(where: { !accepted.contains($0) }) {
            let known = accepted.sorted().joined(separator: ", ")
            throw CommandFailure("\(path): \(unknown) is not a setting here; expected one of \(known).")
        }
        self.members = members
        snapshot = try JSONSnapshot(data: bytes.span.bytes, providerName: path, parsingOptions: .default)
    }

    /// A file's value as its author wrote it, for an error sentence.
    static func show(_ value: JSONValue) -> String {
        switch value {
        case .object: "an object"
        case .array: "an array"
        default: CanonicalJSON.string(value)
        }
    }

    /// The 1-based line and column of a byte offset, for a person looking at the file in an editor.
    private static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let before = bytes.prefix(offset)
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return (line, column)
    }
}
