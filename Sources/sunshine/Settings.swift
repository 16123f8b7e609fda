import ArgumentParser
import Configuration
import Foundation

/// A setting every command resolves the same way, with the flag that sets it on the command line.
/// Its environment variable is derived by swift-configuration from the key: `SUNSHINE_` and the
/// key in upper snake case (`heartbeatMs` → `SUNSHINE_HEARTBEAT_MS`).
struct Setting: Hashable, Sendable {
    var key: String
    var flag: String

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
    static let heartbeatMs = Setting(key: "heartbeatMs", flag: "--heartbeat-ms")
    static let logLevel = Setting(key: "logLevel", flag: "--log-level")
}

/// The one resolver of settings for every command (DESIGN §5): a flag wins over the environment,
/// which wins over the built-in default. The sources are swift-configuration providers in that
/// order, so a configuration file joins as one more provider without changing any command.
struct Settings {
    private struct Source {
        var provider: any ConfigProvider
        /// How a person names where a value came from, given the setting and the provider's key.
        var origin: (Setting, String) -> String
    }

    private let sources: [Source]

    /// - Parameters:
    ///   - flags: the values the command line gave, by setting (nil where a flag was not given).
    ///   - environment: the process environment (tests pass their own).
    init(flags: [Setting: String?], environment: [String: String] = ProcessInfo.processInfo.environment) {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (setting, value) in flags {
            if let value { values[AbsoluteConfigKey([setting.key])] = ConfigValue(.string(value), isSecret: false) }
        }
        let commandLine = InMemoryProvider(name: "command line", values: values)
        let variables = KeyMappingProvider(upstream: EnvironmentVariablesProvider(environmentVariables: environment)) { key in
            key.prepending(["sunshine"])
        }
        sources = [
            Source(provider: commandLine, origin: { setting, _ in setting.flag }),
            Source(provider: variables, origin: { _, encoded in encoded }),
        ]
    }

    /// The value of `setting` and where it came from, or nil when no source sets it. An empty
    /// environment variable counts as unset.
    func text(_ setting: Setting) throws -> (value: String, origin: String)? {
        for source in sources {
            let lookup = try source.provider.value(forKey: AbsoluteConfigKey([setting.key]), type: .string)
            if case .string(let value)? = lookup.value?.content, !value.isEmpty {
                return (value, source.origin(setting, lookup.encodedKey))
            }
        }
        return nil
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
        guard let found = try text(setting) else { return fallback }
        return try Self.parse(found, expected: expected, parse)
    }

    /// Like ``value(_:default:expected:_:)`` for a setting the command cannot run without.
    func required<T>(_ setting: Setting, expected: String, missing: String, _ parse: (String) -> T?) throws -> T {
        guard let found = try text(setting) else { throw CommandFailure(missing) }
        return try Self.parse(found, expected: expected, parse)
    }

    private static func parse<T>(_ found: (value: String, origin: String), expected: String, _ parse: (String) -> T?) throws -> T {
        guard let value = parse(found.value) else {
            throw CommandFailure("\(found.origin) \"\(found.value)\" is not \(expected).")
        }
        return value
    }
}
