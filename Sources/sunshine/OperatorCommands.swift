import ArgumentParser
import Foundation
import SunshineModel
import SunshineRPC
import SunshineWire

/// `--coordinator HOST:PORT` and an operator's certificate.
struct OperatorOptions: ParsableArguments, SettingFlags {
    @Option(help: "The coordinator's HOST:PORT (env SUNSHINE_COORDINATOR; default 127.0.0.1:7420).")
    var coordinator: String?

    @Option(help: "The operator's node id in the PKI directory (env SUNSHINE_OPERATOR; default operator).")
    var node: String?

    @OptionGroup var credentials: CredentialOptions

    var flags: [Setting: String?] { [.coordinator: coordinator, .operatorNode: node] }

    /// Connects as the operator, calls one method, and prints its JSON result.
    func run<Params: Encodable & Sendable, Result: Codable & Sendable>(_ method: String, _ params: Params, returning: Result.Type) async throws {
        let settings = Settings(self, credentials)
        let node = try settings.nodeName(.operatorNode, default: "operator", missing: "")
        let endpoint = try settings.endpoint(.coordinator, default: "127.0.0.1:7420")
        let tls = try ClusterTLS.clientContext(try CredentialOptions.resolve(node: node, settings))
        let result: Result
        do {
            result = try await RPCClient.withConnection(
                to: endpoint, tls: tls, hello: HelloParams(node: node, role: .operator, software: "sunshine-cli/1")
            ) { connection, _ in
                try await connection.call(method, params: params, returning: Result.self)
            }
        } catch {
            throw CommandFailure("\(method) failed: \(ErrorSentence.describe(error))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}

/// Reads a JSON object from an option value, or from a file when the value starts with `@`.
func jsonObject(_ text: String, flag: String) throws -> JSONValue {
    let data: Data
    if text.hasPrefix("@") {
        let path = String(text.dropFirst())
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("\(flag) \(text): cannot read \(path).")
        }
        data = contents
    } else {
        data = Data(text.utf8)
    }
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: data), value.objectValue != nil else {
        throw CommandFailure("\(flag) must be a JSON object, given inline or as @FILE.")
    }
    return value
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print, per township, who is online, its checkpoint, outbox and counts (JSON).")
    @OptionGroup var options: OperatorOptions

    func run() async throws {
        try await options.run(Method.status, EmptyResult(), returning: StatusResult.self)
    }
}

struct TallyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tally", abstract: "Print the count per contest and round (JSON).")
    @OptionGroup var options: OperatorOptions
    @Option(help: "Only this contest.") var contest: String?
    @Option(help: "Only this round.") var round: String?

    func run() async throws {
        try await options.run(Method.tally, TallyParams(contest: contest, round: round), returning: TallyResult.self)
    }
}

struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conflicts", abstract: "Print the open conflicts with their versions (JSON).")
    @OptionGroup var options: OperatorOptions

    func run() async throws {
        try await options.run(Method.conflicts, EmptyResult(), returning: ConflictsResult.self)
    }
}

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Write a record as the county: publish a contest, edit a finding (prints the new version).")
    @OptionGroup var options: OperatorOptions
    @Option(help: "ballot, finding or contest.") var kind: String
    @Option(name: .customLong("record"), help: "The record's key, e.g. contest/county/secretary-2026 (--key is the TLS key file).") var key: String
    @Option(help: "The record's data as a JSON object, or @FILE.") var data: String
    @Flag(help: "Mark the record deleted.") var deleted = false

    func run() async throws {
        try await options.run(Method.put, PutParams(kind: kind, key: key, data: try jsonObject(data, flag: "--data"), deleted: deleted ? true : nil), returning: VersionResult.self)
    }
}

struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "End an open conflict with the given value (prints the new version).")
    @OptionGroup var options: OperatorOptions
    @Option(name: .customLong("record"), help: "The key of the record in conflict (--key is the TLS key file).") var key: String
    @Option(help: "The resolved data as a JSON object, or @FILE.") var data: String

    func run() async throws {
        try await options.run(Method.resolve, ResolveParams(key: key, data: try jsonObject(data, flag: "--data")), returning: VersionResult.self)
    }
}

struct CloseRoundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close-round", abstract: "Close a round: later ballots for it are quarantined, not counted.")
    @OptionGroup var options: OperatorOptions
    @Option(help: "The contest id.") var contest: String
    @Option(help: "The round id.") var round: String

    func run() async throws {
        try await options.run(Method.closeRound, CloseRoundParams(contest: contest, round: round), returning: CloseRoundResult.self)
    }
}
