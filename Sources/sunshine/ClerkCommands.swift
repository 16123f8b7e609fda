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

    /// The township's store. A command that only reads refuses a store that is not there (a
    /// mistyped --data would otherwise show an empty township); one that records makes it — the
    /// clerks work offline, before the agent ever ran — and says so, since the agent must be given
    /// the same --data to send what is recorded there.
    func open(reading: Bool = false) throws -> Township {
        let settings = Settings(self, storage)
        let node = try settings.nodeName(
            .node, missing: "Say which township this is with --node (for example --node township-03).")
        let path = try DataOptions.storePath(node: node, settings)
        let existed = FileManager.default.fileExists(atPath: path)
        var isDirectory: ObjCBool = false
        let directory = (path as NSString).deletingLastPathComponent
        let directoryIsFile = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && !isDirectory.boolValue
        // A data path that is a file is refused by the store itself, in its own sentence.
        if reading && !existed && !directoryIsFile {
            throw CommandFailure(
                "There is no store of \(node) at \(path); check --data (the clerks' commands and the agent share one data directory).")
        }
        let township = Township(store: try DataOptions.openStore(node: node, settings))
        if !existed {
            Output.note("Made a new store for \(node) at \(path): run the agent with this same --data, so that what is recorded here is sent.")
        }
        return township
    }
}

/// `--contest C --round R --station S --serial N`: which paper.
struct PaperOptions: ParsableArguments {
    @Option(help: "Contest id.") var contest: String
    @Option(help: "Round id, e.g. vote-1.") var round: String
    @Option(help: "Polling station id.") var station: String
    @Option(help: "The paper's serial number.") var serial: Int64

    /// The paper with these marks.
    func ballot(choices: [String], valid: Bool) -> Ballot {
        Ballot(contest: contest, round: round, station: station, serial: serial, choices: choices, valid: valid)
    }
}

/// Runs a local write, turning a record the rules refuse into the CLI's one sentence.
func writeLocally<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RecordError {
        throw CommandFailure("Not recorded: \(error.message).")
    }
}

/// Checks a paper against its contest, when the township's store holds the contest already (it
/// may not yet, offline): the contest must be this township's, the round one of its rounds, and a
/// paper marked valid must name only its candidates, no more than it has seats. A paper a clerk
/// judged spoilt is recorded `--invalid`, and counted as invalid.
func checkPaper(_ ballot: Ballot, township: String, contests: [String: Contest]) -> String? {
    guard let contest = contests[ballot.contest] else {
        // A store that holds none of its township's contests yet (offline from the start) takes
        // the paper; one that holds some refuses a contest id it does not know: a mistyped id
        // would make a paper that never counts.
        let own = contests.filter { $0.value.township == township }.keys.sorted()
        guard !own.isEmpty else { return nil }
        return
            "this store holds no contest \(ballot.contest); \(township)'s contests are \(own.joined(separator: ", ")) "
            + "(a contest the county published since the agent last synced arrives when it syncs)"
    }
    guard contest.township == township else {
        return
            "contest \(ballot.contest) is \(contest.township)'s election; a paper of \(township) would not count in it"
    }
    guard contest.rounds.contains(ballot.round) else {
        return
            "contest \(ballot.contest) has no round \(ballot.round); "
            + "its rounds are \(contest.rounds.joined(separator: ", "))"
    }
    guard ballot.valid else { return nil }
    let candidates = Set(contest.candidates.map(\.id))
    if let stranger = ballot.choices.first(where: { !candidates.contains($0) }) {
        return
            "\(stranger) is not a candidate of \(ballot.contest) (\(contest.candidates.map(\.id).joined(separator: ", "))); "
            + "a spoilt paper is recorded as invalid"
    }
    if Set(ballot.choices).count != ballot.choices.count {
        return "the paper names a candidate twice; a spoilt paper is recorded as invalid"
    }
    if ballot.choices.count > contest.seats {
        return
            "the paper marks \(counted(ballot.choices.count, "candidate")) for \(counted(contest.seats, "seat")); "
            + "a spoilt paper is recorded as invalid"
    }
    return nil
}

extension Township {
    /// The contests this store holds, by id.
    func contests() async throws -> [String: Contest] {
        let records = try await store.read { try $0.currentValues(kind: .contest) }
        var contests: [String: Contest] = [:]
        for current in records where !current.value.deleted {
            if let contest = try? RecordRules.contest(current.value.data) {
                contests[Contest.id(ofKey: current.value.key)] = contest
            }
        }
        return contests
    }
}

/// "Recorded KEY …; the agent sends it when connected."
func recordedLine(_ record: Record, _ what: String = "Recorded") -> String {
    "\(what) \(record.key) (clock \(record.clock)); the agent sends it to the coordinator when connected."
}
