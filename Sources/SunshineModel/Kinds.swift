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
        // By bytes: asked of every ballot a push applies, where splitting the key into Characters
        // cost a tenth of applying it (sunshine-bench stages).
        let segments = key.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard segments.count == 6, segments[0].elementsEqual("ballot".utf8) else { return nil }
        return (String(Substring(segments[2])), String(Substring(segments[3])))
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
    /// The most stores one round's closure names: a township runs a PC or two, and every closed
    /// round of a contest must fit in its record (``RecordRules/maxRecordBytes``).
    public static let maxClosureStores = 16

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
    /// The rounds the county has closed, each with the checkpoint of every store of the
    /// contest's township at the close: the last change of that store the county held then. A
    /// closure travels in the contest's own record, so every replica holds it, and a coordinator
    /// restored from an older copy gets it back from the township — and with it which papers were
    /// at the county in time (``paperIsLate(round:written:store:after:upto:heldThrough:)``, docs/replication.md).
    public var closed: [String: [String: Int64]]

    public init(
        title: String, township: String, seats: Int64, rounds: [String], candidates: [Candidate], closed: [String: [String: Int64]] = [:]
    ) {
        self.title = title
        self.township = township
        self.seats = seats
        self.rounds = rounds
        self.candidates = candidates
        self.closed = closed
    }

    /// This contest with the closures of `other` joined to its own: closing is one-way, so two
    /// copies of a contest join to every round either closed, and for a round both closed, to the
    /// earlier checkpoint of each store — the stricter close.
    public func joiningClosures(of other: [String: [String: Int64]]) -> Contest {
        var contest = self
        contest.closed = Self.join(closed, other.filter { rounds.contains($0.key) })
        return contest
    }

    /// Two sets of closures joined: every round of either, and for a round of both, the earlier
    /// checkpoint of each store.
    public static func join(_ one: [String: [String: Int64]], _ other: [String: [String: Int64]]) -> [String: [String: Int64]] {
        one.merging(other) { mine, theirs in mine.merging(theirs, uniquingKeysWith: min) }
    }

    /// `data` — this contest's record data — with this contest's closures in it, every other
    /// member as it was.
    public func closures(into data: JSONValue) -> JSONValue {
        guard case .object(var members) = data else { return data }
        members["closed"] = json["closed"]
        return .object(members)
    }

    /// Whether a paper of `round` that the county does not hold reached it after the round closed.
    /// At the close the county held every change of each of the township's stores up to that
    /// store's checkpoint then, so a paper it does not hold now was in time only if it was one of
    /// those, lost since in a restore of the county:
    /// * a paper that says which store wrote it as which change (`written`), whichever store sends
    ///   it: if that change is within its writer's checkpoint at the close, and beyond what the
    ///   county holds of that store now (`heldThrough`) — it holds any change up to there;
    /// * a paper from before papers said so: if its push carries changes (`after`, `upto`] of the
    ///   sending store `store`, all within that store's checkpoint at the close (`after` is what
    ///   the county holds of it now: a push that does not continue from there is refused).
    public func paperIsLate(
        round: String, written: WrittenAt?, store: String, after: Int64, upto: Int64, heldThrough: (String) throws -> Int64
    ) rethrows -> Bool {
        guard let checkpoints = closed[round] else { return false }
        if let written {
            guard let checkpoint = checkpoints[written.store], written.seq <= checkpoint else { return true }
            return try heldThrough(written.store) >= written.seq
        }
        guard let checkpoint = checkpoints[store] else { return true }
        return !(after < upto && upto <= checkpoint)
    }

    /// The key of contest `id`: `contest/county/ID`.
    public static func key(_ id: String) -> String { "contest/\(RecordRules.countyScope)/\(id)" }

    /// The id in a contest's key: its last segment.
    public static func id(ofKey key: String) -> String { String(key.split(separator: "/").last ?? "") }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "title": .string(title), "township": .string(township), "seats": .int(seats),
            "rounds": .array(rounds.map { .string($0) }),
            "candidates": .array(candidates.map { ["id": .string($0.id), "name": .string($0.name)] }),
        ]
        if !closed.isEmpty {
            members["closed"] = .object(closed.mapValues { stores in .object(stores.mapValues { .int($0) }) })
        }
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
