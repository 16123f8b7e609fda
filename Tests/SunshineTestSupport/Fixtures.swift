import SunshineModel

/// A ballot paper for tests, with the defaults most tests want.
public func paper(_ serial: Int, contest: String = "committee-2026", round: String = "vote-1", station: String = "s01", choices: [String] = ["cand-01"], valid: Bool = true) -> Ballot {
    Ballot(contest: contest, round: round, station: station, serial: Int64(serial), choices: choices, valid: valid)
}

/// A contest of township-01's election (DESIGN §3.4: only its own ballots count in it).
public let sampleContest = Contest(
    title: "Township party committee", township: "township-01", seats: 2, rounds: ["vote-1", "vote-2"],
    candidates: [.init(id: "cand-01", name: "Li Wei"), .init(id: "cand-02", name: "Wang Fang"), .init(id: "cand-03", name: "Zhang Min")]
)

/// The same contest for another township's election.
public func contest(for township: String) -> Contest {
    var contest = sampleContest
    contest.township = township
    return contest
}

/// A log head for pushes built by hand (a push that moves the checkpoint names one, DESIGN §3.3).
public let someHead = String(repeating: "ab", count: 32)
