import ArgumentParser
import Foundation
import SunshineModel
import SunshineWire

/// `sunshine contest publish FILE`: one township's election, checked here by the same rules the
/// coordinator applies before anything is sent.
struct ContestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contest", abstract: "Publish a township's contest: its title, seats, rounds and candidates.",
        subcommands: [Publish.self]
    )

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish (or re-publish) a contest from a JSON file, after checking it.",
            discussion: """
                The file holds one JSON object: {"id": "committee-2026-township-03", "title": "…", "township": "township-03", \
                "seats": 5, "rounds": ["rec-1", "rec-2", "vote-1", "vote-2"], "candidates": [{"id": "cand-01", "name": "李伟"}, …]}. \
                Only township-03's ballots count in it. A contest needs at least as many candidates as seats; the \
                competitive ratio (candidates per seat) is shown.
                """
        )
        @OptionGroup var options: OperatorOptions
        @Argument(help: "The contest as a JSON file, or - for standard input.") var file: String
        @Option(help: "The contest's id, when the file has no \"id\".") var id: String?

        func run() async throws {
            let (id, data, contest) = try Self.read(file, id: id)
            let params = PutParams(kind: RecordKind.contest.rawValue, key: Contest.key(id), data: data)
            let result = try await options.call(
                Method.put, params, returning: VersionResult.self, command: "contest publish")
            let ratio = Double(contest.candidates.count) / Double(contest.seats)
            if options.json {
                return try Output.json(
                    PublishedContest(
                        contest: id, competitiveRatio: (ratio * 100).rounded() / 100, record: result.record))
            }
            Output.say(
                "Published contest \(id) for \(contest.township): \"\(contest.title)\", "
                    + "rounds \(contest.rounds.joined(separator: ", "))."
            )
            Output.say(Self.competition(contest))
        }

        /// The contest in `file` (or standard input), its id and its data as sent, or one sentence saying what is wrong.
        static func read(_ file: String, id given: String?) throws -> (id: String, data: JSONValue, contest: Contest) {
            let object = try jsonObject(file, flag: "contest")
            guard case .object(var members) = object else { throw CommandFailure("\(file) must hold one JSON object.") }
            let named = members.removeValue(forKey: "id")
            guard let id = given ?? named?.stringValue else {
                throw CommandFailure(
                    "\(file) has no \"id\"; add one (e.g. \"committee-2026-township-03\") or pass --id.")
            }
            let data = JSONValue.object(members)
            let contest: Contest
            do throws(RecordError) {
                contest = try RecordRules.contest(data)
                try RecordRules.validate(
                    Record(
                        key: Contest.key(id), kind: .contest, township: RecordRules.countyScope,
                        clock: VersionVector(["coordinator": 1]),
                        origin: "coordinator", at: "", data: data
                    ))
            } catch {
                throw CommandFailure("\(file) is not a valid contest: \(error.message); nothing was sent.")
            }
            guard contest.candidates.count >= contest.seats else {
                throw CommandFailure(
                    "\(file) lists \(counted(contest.candidates.count, "candidate")) for \(counted(contest.seats, "seat")); "
                        + "a contest needs at least as many candidates as seats."
                )
            }
            return (id, data, contest)
        }

        /// "6 candidates for 5 seats: competitive ratio 1.20 (20% more candidates than seats)."
        static func competition(_ contest: Contest) -> String {
            let candidates = contest.candidates.count
            let seats = Int(contest.seats)
            let ratio = String(format: "%.2f", Double(candidates) / Double(seats))
            let margin = Int((Double(candidates - seats) * 100 / Double(seats)).rounded())
            let what =
                candidates == seats
                ? "as many candidates as seats: not competitive" : "\(margin)% more candidates than seats"
            return
                "\(candidates) candidates for \(seats) seat\(seats == 1 ? "" : "s"): "
                + "competitive ratio \(ratio) (\(what))."
        }
    }
}

/// `sunshine contest publish --json`: the contest's id, its competitive ratio (candidates per
/// seat, to two decimals) and the version the coordinator wrote (proto-schemas/cli/contest-publish.schema.json).
struct PublishedContest: Codable, Sendable {
    var contest: String
    var competitiveRatio: Double
    var record: JSONValue
}
