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

/// Ballots that read alike for the tally: the same contest, round and township, the same choices
/// and clerk's verdict, quarantined or not — and how many there are. A store keeps one such entry
/// per current ballot and answers the tally grouped, so counting a contest does not read every
/// paper (a province holds millions).
public struct BallotGroup: Sendable, Hashable {
    public var contest: String
    public var round: String
    public var township: String
    public var choices: [String]
    public var valid: Bool
    public var quarantined: Bool
    public var count: Int

    public init(contest: String, round: String, township: String, choices: [String], valid: Bool, quarantined: Bool, count: Int = 1) {
        self.contest = contest
        self.round = round
        self.township = township
        self.choices = choices
        self.valid = valid
        self.quarantined = quarantined
        self.count = count
    }

    /// The group of one current ballot value; nil for a voided paper, or data that is not a ballot.
    public init?(_ value: Record, quarantined: Bool) {
        guard !value.deleted, let ballot = value.paper else { return nil }
        self.init(
            contest: ballot.contest, round: ballot.round, township: value.township, choices: ballot.choices, valid: ballot.valid,
            quarantined: quarantined
        )
    }
}

public enum Tally {
    /// Counts ballots per contest and round (DESIGN §3.3 `tally`).
    ///
    /// - Parameters:
    ///   - contests: current contest records (key `contest/county/ID`).
    ///   - groups: the current ballots, grouped (``BallotGroup``).
    ///   - closedRounds: the (contest, round) pairs that are closed.
    ///   - contest / round: optional filters.
    public static func compute(
        contests: [Record],
        groups: [BallotGroup],
        closedRounds: Set<String>,
        contest filterContest: String? = nil,
        round filterRound: String? = nil
    ) -> [RoundTally] {
        var definitions: [String: Contest] = [:]
        for record in contests where !record.deleted {
            guard let contest = try? RecordRules.contest(record.data) else { continue }
            definitions[Contest.id(ofKey: record.key)] = contest
        }
        struct Bucket {
            var votes: [String: Int] = [:]
            var valid = 0
            var invalid = 0
            var quarantined = 0
            var townships: Set<String> = []
        }
        var buckets: [String: [String: Bucket]] = [:]
        for group in groups {
            guard filterContest.map({ $0 == group.contest }) ?? true, filterRound.map({ $0 == group.round }) ?? true else { continue }
            var bucket = buckets[group.contest, default: [:]][group.round, default: Bucket()]
            if definitions[group.contest].map({ $0.township == group.township }) ?? true { bucket.townships.insert(group.township) }
            let paper = Ballot(contest: group.contest, round: group.round, station: "", serial: 0, choices: group.choices, valid: group.valid)
            if group.quarantined {
                bucket.quarantined += group.count
            } else if let contest = definitions[group.contest], contest.counts(paper, from: group.township) {
                bucket.valid += group.count
                for choice in group.choices { bucket.votes[choice, default: 0] += group.count }
            } else {
                bucket.invalid += group.count
            }
            buckets[group.contest, default: [:]][group.round] = bucket
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
