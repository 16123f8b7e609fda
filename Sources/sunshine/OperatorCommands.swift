import ArgumentParser
import Foundation
import SunshineModel
import SunshineRPC
import SunshineWire

/// Reads a JSON object given inline (starting with `{`), from standard input (`-`), or from a file.
func jsonObject(_ text: String, flag: String) throws -> JSONValue {
    let data: Data
    let source: String
    if text == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
        source = "standard input"
    } else if text.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
        data = Data(text.utf8)
        source = flag
    } else {
        guard let contents = FileManager.default.contents(atPath: text) else {
            throw CommandFailure(
                "\(flag) \(text): there is no readable file \(text); give a JSON file, - for standard input, "
                    + "or {…} inline."
            )
        }
        data = contents
        source = text
    }
    let value: JSONValue
    do {
        value = try JSONParser.parse(Array(data))
    } catch {
        throw CommandFailure("\(source) is not valid JSON (\(error)).")
    }
    guard value.objectValue != nil else { throw CommandFailure("\(source) must hold one JSON object.") }
    return value
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per township, who is online, what it sent and what needs attention, and the latest events."
    )
    @OptionGroup var options: OperatorOptions

    func run() async throws {
        let status = try await options.call(
            Method.status, EmptyResult(), returning: StatusResult.self, command: "status")
        if options.json { return try Output.json(status) }
        Output.lines(CountyViews.status(status, now: Date(), width: Output.width))
    }
}

struct TallyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract:
            "Count each contest's rounds: valid, non-quarantined ballots of the contest's own township, per candidate."
    )
    @OptionGroup var options: OperatorOptions
    @Option(help: "Only this contest (shows each of its rounds in detail).") var contest: String?
    @Option(help: "Only this round, e.g. vote-1.") var round: String?

    func run() async throws {
        let client = try options.operatorClient(for: "tally")
        let (contest, round) = (self.contest, self.round)
        let result = try await client.withConnection { connection in
            let result = try await connection.call(
                Method.tally, params: TallyParams(contest: contest, round: round), returning: TallyResult.self)
            if result.rounds.isEmpty, contest != nil || round != nil {
                let known = try await connection.call(
                    Method.tally, params: TallyParams(contest: contest), returning: TallyResult.self)
                throw CommandFailure(Self.unknown(contest: contest, round: round, known: known))
            }
            return result
        }
        if options.json { return try Output.json(result) }
        Output.lines(CountyViews.tally(result, detailed: contest != nil, width: Output.width))
    }

    /// The sentence for a filter that matches nothing: which contest or round does not exist, and what does.
    static func unknown(contest: String?, round: String?, known: TallyResult) -> String {
        if let contest, known.rounds.isEmpty {
            return
                "The coordinator holds no contest \(contest) and no ballots for it; "
                + "`sunshine tally` lists the contests there are."
        }
        let rounds = Array(Set(known.rounds.map(\.round))).sorted()
        if let contest {
            return "Contest \(contest) has no round \(round ?? ""); its rounds are \(rounds.joined(separator: ", "))."
        }
        return
            "No contest has a round \(round ?? ""); "
            + "the rounds there are \(rounds.isEmpty ? "none yet" : rounds.joined(separator: ", "))."
    }
}

struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List the open conflicts: keys whose versions disagree, until an operator resolves them."
    )
    @OptionGroup var options: OperatorOptions

    func run() async throws {
        let result = try await options.call(
            Method.conflicts, EmptyResult(), returning: ConflictsResult.self, command: "conflicts")
        if options.json { return try Output.json(result) }
        Output.lines(CountyViews.conflicts(result, width: Output.width))
    }
}

struct RejectedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rejected",
        abstract: "List the versions the coordinator refused and holds aside, newest first, with why."
    )
    @OptionGroup var options: OperatorOptions
    @Option(help: "Only those of this township (its scope or sent by it).") var township: String?
    @Option(help: "At most this many (1–1000, default 100).") var limit: Int?
    @Option(help: "Only those held before the entry of this id: the next page after a list that said there are more.") var before: Int64?

    func validate() throws {
        if let limit, !(1...1_000).contains(limit) { throw ValidationError("--limit must be between 1 and 1000.") }
    }

    func run() async throws {
        let params = RejectedParams(township: township, limit: limit, before: before)
        let result = try await options.call(
            Method.rejected, params, returning: RejectedResult.self, command: "rejected")
        if options.json { return try Output.json(result) }
        Output.lines(CountyViews.rejected(result, width: Output.width))
    }
}

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Write a record as the county, e.g. edit a finding (prints the new version)."
    )
    @OptionGroup var options: OperatorOptions
    @Option(help: "finding or contest.") var kind: String
    @Argument(help: "The record's key, e.g. finding/township-03/seal.") var key: String
    @Option(help: "The record's data: a JSON file, - for standard input, or {…} inline.") var data: String
    @Flag(help: "Mark the record deleted.") var deleted = false

    func run() async throws {
        let params = PutParams(
            kind: kind, key: key, data: try jsonObject(data, flag: "--data"), deleted: deleted ? true : nil)
        let result = try await options.call(Method.put, params, returning: VersionResult.self, command: "put")
        if options.json { return try Output.json(result) }
        Output.say(
            "Wrote \(key) as the county (clock \(CanonicalJSON.string(result.record["clock"] ?? .null))); "
                + "every node that reads it gets it."
        )
    }
}

struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "End an open conflict with the agreed data: a version newer than every one in conflict."
    )
    @OptionGroup var options: OperatorOptions
    @Argument(help: "The key of the record in conflict (see `sunshine conflicts`).") var key: String
    @Option(help: "The agreed data: a JSON file, - for standard input, or {…} inline.") var data: String

    func run() async throws {
        let params = ResolveParams(key: key, data: try jsonObject(data, flag: "--data"))
        let result = try await options.call(Method.resolve, params, returning: VersionResult.self, command: "resolve")
        if options.json { return try Output.json(result) }
        Output.say(
            "Resolved \(key) with clock \(CanonicalJSON.string(result.record["clock"] ?? .null)); "
                + "every node that holds it will show this version."
        )
    }
}

struct CloseRoundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close-round",
        abstract: "Close a round: ballots for it that arrive later are kept, quarantined and not counted."
    )
    @OptionGroup var options: OperatorOptions
    @Argument(help: "The contest id.") var contest: String
    @Argument(help: "The round id, e.g. vote-1.") var round: String
    @Flag(
        help: """
            Close although a store of the contest's township has not reported an empty outbox since the \
            coordinator started (a PC that stays off, or one rebuilt this week). Ballots it sent before and \
            has not sent again since (after a restore from a backup) would then count as late.
            """)
    var evenIfBehind = false

    func run() async throws {
        let params = CloseRoundParams(contest: contest, round: round, evenIfBehind: evenIfBehind ? true : nil)
        let result = try await options.call(
            Method.closeRound, params, returning: CloseRoundResult.self, command: "close-round")
        if options.json { return try Output.json(result) }
        if result.newlyClosed {
            Output.say(
                "Closed round \(round) of \(contest): ballots for it that arrive from now on are quarantined, "
                    + "not counted."
            )
        } else {
            Output.say(
                "Round \(round) of \(contest) was already closed; its checkpoints are at most what the county holds of each store, "
                    + "so it counts no paper the county did not have.")
        }
    }
}
