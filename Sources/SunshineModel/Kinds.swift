/// A ballot paper's data.
public struct Ballot: Sendable, Hashable {
    public var contest: String
    public var round: String
    public var station: String
    public var serial: Int64
    public var choices: [String]
    /// Whether the counting clerk judged the paper valid.
    public var valid: Bool
    /// Why this version corrects the paper as first recorded; nil on the first recording. A
    /// correction is a new version over the old, which history keeps (`sunshine ballot correct`).
    public var correction: String?

    public init(contest: String, round: String, station: String, serial: Int64, choices: [String], valid: Bool = true, correction: String? = nil) {
        self.contest = contest
        self.round = round
        self.station = station
        self.serial = serial
        self.choices = choices
        self.valid = valid
        self.correction = correction
    }

    /// The key every node derives for this paper: `ballot/TOWNSHIP/CONTEST/ROUND/STATION/SERIAL`
    /// (serial zero-padded to 6 digits). Two papers with the same key are a duplicated serial.
    public func key(township: String) -> String {
        let digits = String(serial)
        return "ballot/\(township)/\(contest)/\(round)/\(station)/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The contest and round a ballot key names — of a voided paper too, whose record has no data.
    public static func contestAndRound(ofKey key: String) -> (contest: String, round: String)? {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 6, segments[0] == "ballot" else { return nil }
        return (String(segments[2]), String(segments[3]))
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "contest": .string(contest), "round": .string(round), "station": .string(station), "serial": .int(serial),
            "choices": .array(choices.map { .string($0) }), "valid": .bool(valid),
        ]
        if let correction { members["correction"] = .string(correction) }
        return .object(members)
    }
}

/// An inspection team's finding about a township.
public struct Finding: Sendable, Hashable {
    public enum Severity: String, Sendable, CaseIterable, Comparable {
        case low, medium, high, critical
        public static func < (lhs: Self, rhs: Self) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }
    }

    public enum Status: String, Sendable, CaseIterable {
        case open, investigating, resolved, dismissed
        /// How much attention the status asks for; a merge keeps the most demanding one, so a
        /// concurrent "resolved" never silently hides an "investigating".
        var attention: Int {
            switch self {
            case .investigating: return 3
            case .open: return 2
            case .resolved: return 1
            case .dismissed: return 0
            }
        }
    }

    public var team: String
    public var category: String
    public var severity: Severity
    public var status: Status
    public var title: String
    public var details: String
    public var notes: [String]

    public init(team: String, category: String, severity: Severity, status: Status, title: String, details: String = "", notes: [String] = []) {
        self.team = team
        self.category = category
        self.severity = severity
        self.status = status
        self.title = title
        self.details = details
        self.notes = notes
    }

    public var json: JSONValue {
        ["team": .string(team), "category": .string(category), "severity": .string(severity.rawValue),
         "status": .string(status.rawValue), "title": .string(title), "details": .string(details),
         "notes": .array(notes.map { .string($0) })]
    }
}

/// A contest: who can be elected, to how many seats, in which rounds.
public struct Contest: Sendable, Hashable {
    public struct Candidate: Sendable, Hashable {
        public var id: String
        public var name: String

        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public var title: String
    /// The township holding the contest: only its own ballots count (DESIGN §3.4).
    public var township: String
    public var seats: Int64
    public var rounds: [String]
    public var candidates: [Candidate]
    /// The rounds the county has closed, in the order of `rounds`. A closure travels in the
    /// contest's own record so that every replica holds it, and a coordinator restored from an
    /// older copy gets it back from the contest's township (DESIGN §3.5, docs/replication.md).
    public var closed: [String]

    public init(title: String, township: String, seats: Int64, rounds: [String], candidates: [Candidate], closed: [String] = []) {
        self.title = title
        self.township = township
        self.seats = seats
        self.rounds = rounds
        self.candidates = candidates
        self.closed = closed
    }

    /// This contest with `more` rounds closed besides its own: closing is one-way, so any two
    /// copies of a contest join to the union of their closures, kept in round order.
    public func closing(_ more: some Sequence<String>) -> Contest {
        var contest = self
        let all = Set(closed).union(more)
        contest.closed = rounds.filter(all.contains)
        return contest
    }

    /// The key of contest `id`: `contest/county/ID`.
    public static func key(_ id: String) -> String { "contest/\(RecordRules.countyScope)/\(id)" }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "title": .string(title), "township": .string(township), "seats": .int(seats),
            "rounds": .array(rounds.map { .string($0) }),
            "candidates": .array(candidates.map { ["id": .string($0.id), "name": .string($0.name)] }),
        ]
        if !closed.isEmpty { members["closed"] = .array(closed.map { .string($0) }) }
        return .object(members)
    }

    /// Whether a ballot of `township` counts: a paper of this contest's own township, in one of its
    /// rounds, judged valid, no more choices than seats, each choice a candidate of this contest,
    /// no candidate twice. Anything else is an invalid paper — counted as invalid, never silently
    /// dropped (a round misspelt at a township office is one such paper, not a round of its own).
    public func counts(_ ballot: Ballot, from township: String) -> Bool {
        guard township == self.township, rounds.contains(ballot.round), ballot.valid, ballot.choices.count <= seats,
            Set(ballot.choices).count == ballot.choices.count
        else {
            return false
        }
        let ids = Set(candidates.map(\.id))
        return ballot.choices.allSatisfy(ids.contains)
    }
}
