import ArgumentParser
import Foundation
import SunshineModel
import SunshineTownship

/// `--node TOWNSHIP --data DIR`: the township's own store, written directly — with or without
/// network, whether or not the agent is running.
struct TownshipStoreOptions: ParsableArguments, SettingFlags {
    @Option(help: "This township's node id (env SUNSHINE_NODE).")
    var node: String?

    @OptionGroup var storage: DataOptions

    var flags: [Setting: String?] { [.node: node] }

    func open() throws -> Township {
        let settings = Settings(self, storage)
        let node = try settings.nodeName(.node, missing: "Say which township this is with --node (for example --node township-03).")
        return Township(store: try DataOptions.openStore(node: node, settings))
    }
}

/// Runs a local write, turning a refused record into the CLI's one sentence.
func writeLocally(_ body: () async throws -> Record) async throws {
    do {
        let record = try await body()
        print("Recorded \(record.key) (clock \(record.clock)); the agent sends it to the coordinator when connected.")
    } catch let error as RecordError {
        throw CommandFailure("Not recorded: \(error.message).")
    }
}

struct BallotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ballot", abstract: "Record ballot papers in the township's store.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record one ballot paper.")
        @OptionGroup var township: TownshipStoreOptions
        @Option(help: "Contest id.") var contest: String
        @Option(help: "Round id, e.g. vote-1.") var round: String
        @Option(help: "Polling station id.") var station: String
        @Option(help: "The paper's serial number.") var serial: Int64
        @Option(name: .customLong("choice"), help: "A candidate id marked on the paper; repeatable.") var choices: [String] = []
        @Flag(help: "The counting clerk judged the paper invalid.") var invalid = false

        func run() async throws {
            let office = try township.open()
            try await writeLocally {
                try await office.record(Ballot(contest: contest, round: round, station: station, serial: serial, choices: choices, valid: !invalid))
            }
        }
    }
}

struct FindingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "finding", abstract: "Record inspection findings in the township's store.", subcommands: [Put.self])

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open or edit a finding about this township.")
        @OptionGroup var township: TownshipStoreOptions
        @Option(help: "The finding's id (its key is finding/TOWNSHIP/ID).") var id: String
        @Option(help: "The inspection team.") var team: String
        @Option(help: "What the finding is about, e.g. procedure or atmosphere.") var category: String
        @Option(help: "low, medium, high or critical.") var severity: String
        @Option(help: "open, investigating, resolved or dismissed.") var status = "open"
        @Option(help: "One line.") var title: String
        @Option(help: "Details.") var details = ""
        @Option(name: .customLong("note"), help: "A note; repeatable.") var notes: [String] = []

        func run() async throws {
            guard let severity = Finding.Severity(rawValue: severity) else {
                throw ValidationError("--severity must be low, medium, high or critical.")
            }
            guard let status = Finding.Status(rawValue: status) else {
                throw ValidationError("--status must be open, investigating, resolved or dismissed.")
            }
            let office = try township.open()
            try await writeLocally {
                try await office.write(Finding(team: team, category: category, severity: severity, status: status, title: title, details: details, notes: notes), id: id)
            }
        }
    }
}
