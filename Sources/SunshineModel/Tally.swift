/// The count of one contest's round, computed the same way by anyone holding the same records.
public struct RoundTally: Sendable, Equatable {
    public struct Candidate: Sendable, Equatable {
        public var id: String
        public var name: String
        public var votes: Int
    }

    public var contest: String
    public var title: String
    public var round: String
    public var closed: Bool
    /// Candidates in the contest's order, with their votes from valid, non-quarantined ballots.
    public var candidates: [Candidate]
    /// Ballots that count.
    public var valid: Int
    /// Ballots the clerk marked invalid, with more choices than seats or unknown candidates, or
    /// recorded by another township than the contest's (DESIGN §3.4: a contest is one township's election).
    public var invalid: Int
    /// Ballots held aside: a duplicated or forged serial, or arriving after the round closed.
    public var quarantined: Int
    /// Townships from which at least one ballot of this round arrived.
    public var townshipsReporting: [String]
}

public enum Tally {
    /// Counts ballots per contest and round (DESIGN §3.3 `tally`).
    ///
    /// - Parameters:
    ///   - contests: current contest records (key `contest/county/ID`).
    ///   - ballots: current ballot values with whether each is quarantined.
    ///   - closedRounds: the (contest, round) pairs that are closed.
    ///   - contest / round: optional filters.
    public static func compute(
        contests: [Record],
        ballots: [(value: Record, quarantined: Bool)],
        closedRounds: Set<String>,
        contest filterContest: String? = nil,
        round filterRound: String? = nil
    ) -> [RoundTally] {
        var definitions: [String: Contest] = [:]
        for record in contests where !record.deleted {
            guard let id = record.key.split(separator: "/").last.map(String.init), let contest = try? RecordRules.contest(record.data) else { continue }
            definitions[id] = contest
        }
        struct Bucket {
            var votes: [String: Int] = [:]
            var valid = 0
            var invalid = 0
            var quarantined = 0
            var townships: Set<String> = []
        }
        var buckets: [String: [String: Bucket]] = [:]
        for (record, quarantined) in ballots where !record.deleted {
            guard let ballot = try? RecordRules.ballot(record.data) else { continue }
            guard filterContest.map({ $0 == ballot.contest }) ?? true, filterRound.map({ $0 == ballot.round }) ?? true else { continue }
            var bucket = buckets[ballot.contest, default: [:]][ballot.round, default: Bucket()]
            if definitions[ballot.contest].map({ $0.township == record.township }) ?? true { bucket.townships.insert(record.township) }
            if quarantined {
                bucket.quarantined += 1
            } else if let contest = definitions[ballot.contest], contest.counts(ballot, from: record.township) {
                bucket.valid += 1
                for choice in ballot.choices { bucket.votes[choice, default: 0] += 1 }
            } else {
                bucket.invalid += 1
            }
            buckets[ballot.contest, default: [:]][ballot.round] = bucket
        }
        var result: [RoundTally] = []
        for id in Set(definitions.keys).union(buckets.keys).sorted() {
            guard filterContest.map({ $0 == id }) ?? true else { continue }
            let contest = definitions[id]
            let rounds = (contest?.rounds ?? []) + (buckets[id]?.keys.sorted() ?? []).filter { !(contest?.rounds ?? []).contains($0) }
            for round in rounds where filterRound.map({ $0 == round }) ?? true {
                let bucket = buckets[id]?[round] ?? Bucket()
                result.append(RoundTally(
                    contest: id,
                    title: contest?.title ?? "(unknown contest)",
                    round: round,
                    closed: closedRounds.contains(roundKey(contest: id, round: round)),
                    candidates: (contest?.candidates ?? []).map { .init(id: $0.id, name: $0.name, votes: bucket.votes[$0.id] ?? 0) },
                    valid: bucket.valid,
                    invalid: bucket.invalid,
                    quarantined: bucket.quarantined,
                    townshipsReporting: bucket.townships.sorted()
                ))
            }
        }
        return result
    }

    /// How a (contest, round) pair is named in `closedRounds`.
    public static func roundKey(contest: String, round: String) -> String { contest + "/" + round }
}
