import SunshineModel

extension Method {
    public static let push = "push"
    public static let pull = "pull"
    public static let changed = "changed"
    public static let status = "status"
    public static let tally = "tally"
    public static let conflicts = "conflicts"
    public static let put = "put"
    public static let resolve = "resolve"
    public static let closeRound = "closeRound"
    public static let rejected = "rejected"

}

/// `push` params: records in the agent's change-log order, the position the batch continues from,
/// and the sequence number of the last.
///
/// Records stay raw JSON here so that one malformed record is rejected on its own while the rest
/// of the batch is applied.
public struct PushParams: Codable, Sendable, Equatable {
    public var records: [JSONValue]
    /// The `upto` of the batch before, or the hello checkpoint for the first (DESIGN §3.3).
    public var after: Int64
    public var upto: Int64
    /// The agent's own log head at `upto` (an extension: the coordinator returns it at hello).
    public var head: String?

    public init(records: [JSONValue], after: Int64, upto: Int64, head: String? = nil) {
        self.records = records
        self.after = after
        self.upto = upto
        self.head = head
    }
}

/// `push` result: per-record outcomes, sent only after the batch and the checkpoint committed.
public struct PushResult: Codable, Sendable, Equatable {
    public struct Rejection: Codable, Sendable, Equatable {
        public var key: String
        /// `forbidden`, `forged_clock`, `invalid` or `round_closed`.
        public var reason: String
        public var message: String

        public init(key: String, reason: String, message: String) {
            self.key = key
            self.reason = reason
            self.message = message
        }
    }

    public var upto: Int64
    public var accepted: Int
    public var duplicates: Int
    public var conflicts: Int
    public var rejected: [Rejection]

    public init(upto: Int64, accepted: Int = 0, duplicates: Int = 0, conflicts: Int = 0, rejected: [Rejection] = []) {
        self.upto = upto
        self.accepted = accepted
        self.duplicates = duplicates
        self.conflicts = conflicts
        self.rejected = rejected
    }
}

/// `pull` params: the coordinator sequence number the agent last stored, and how many to send.
public struct PullParams: Codable, Sendable, Equatable {
    public var since: Int64
    public var limit: Int?

    public init(since: Int64, limit: Int? = nil) {
        self.since = since
        self.limit = limit
    }

}

/// `pull` result: versions meant for the agent after `since`, the position they bring it to with
/// the log's hash-chain head there, and whether more are waiting.
public struct PullResult: Codable, Sendable, Equatable {
    public var records: [JSONValue]
    public var upto: Int64
    public var head: String
    public var more: Bool

    public init(records: [JSONValue], upto: Int64, head: String, more: Bool) {
        self.records = records
        self.upto = upto
        self.head = head
        self.more = more
    }
}

/// `changed` notification: something new for the agent up to this coordinator sequence number.
public struct ChangedParams: Codable, Sendable, Equatable {
    public var upto: Int64

    public init(upto: Int64) {
        self.upto = upto
    }
}

/// `status` result: what operators watch.
public struct StatusResult: Codable, Sendable, Equatable {
    public struct Township: Codable, Sendable, Equatable {
        public var node: String
        public var online: Bool
        /// When the coordinator last heard from it (ISO 8601), if ever since it started.
        public var lastSeen: String?
        /// The township's newest store, and the highest change of it the coordinator holds.
        public var store: String?
        public var checkpoint: Int64
        /// What the agent last reported in a ping: its newest sequence number and unsent changes.
        public var reportedSeq: Int64?
        public var outbox: Int64?
        /// Current records of this township, by kind.
        public var ballots: Int
        public var findings: Int
        public var conflicts: Int
        /// Versions it sent that were refused and are held aside.
        public var rejected: Int
        /// Findings about it still open or under investigation, by severity (absent from older coordinators).
        public var openFindings: OpenFindings?

        public init(
            node: String, online: Bool, lastSeen: String?, store: String?, checkpoint: Int64, reportedSeq: Int64?, outbox: Int64?, ballots: Int,
            findings: Int, conflicts: Int, rejected: Int, openFindings: OpenFindings? = nil
        ) {
            self.openFindings = openFindings
            self.node = node
            self.online = online
            self.lastSeen = lastSeen
            self.store = store
            self.rejected = rejected
            self.checkpoint = checkpoint
            self.reportedSeq = reportedSeq
            self.outbox = outbox
            self.ballots = ballots
            self.findings = findings
            self.conflicts = conflicts
        }
    }

    public struct Totals: Codable, Sendable, Equatable {
        public var townships: Int
        public var online: Int
        public var ballots: Int
        public var findings: Int
        public var contests: Int
        public var openConflicts: Int
        public var quarantined: Int
        public var rejected: Int
        /// The coordinator's newest change-log sequence number.
        public var seq: Int64
        /// When records operators count last changed since the coordinator started (ISO 8601), if they did.
        public var lastChange: String?

        public init(
            townships: Int, online: Int, ballots: Int, findings: Int, contests: Int, openConflicts: Int, quarantined: Int, rejected: Int, seq: Int64,
            lastChange: String? = nil
        ) {
            self.lastChange = lastChange
            self.rejected = rejected
            self.townships = townships
            self.online = online
            self.ballots = ballots
            self.findings = findings
            self.contests = contests
            self.openConflicts = openConflicts
            self.quarantined = quarantined
            self.seq = seq
        }
    }

    /// Open findings by severity: how many findings with status open or investigating are of each level.
    public struct OpenFindings: Codable, Sendable, Equatable {
        public var low: Int
        public var medium: Int
        public var high: Int
        public var critical: Int

        /// Counts per level; zero where not given.
        public init(low: Int = 0, medium: Int = 0, high: Int = 0, critical: Int = 0) {
            self.low = low
            self.medium = medium
            self.high = high
            self.critical = critical
        }

        /// All open findings, whatever their severity.
        public var total: Int { low + medium + high + critical }
    }

    /// Something operators should notice, from the coordinator's ring of recent events.
    public struct Event: Codable, Sendable, Equatable {
        /// Increasing in the order the coordinator saw events, from 1 since it started.
        public var id: Int64
        /// ISO 8601.
        public var at: String
        /// `connected`, `offline`, `conflict`, `resolved`, `refused`, `quarantined`, `roundClosed` or `published`.
        public var kind: String
        /// The township it is about, if one.
        public var township: String?
        /// The record it is about, if one.
        public var key: String?
        /// One line for a person.
        public var message: String

        /// An event as the coordinator reports it.
        public init(id: Int64, at: String, kind: String, township: String? = nil, key: String? = nil, message: String) {
            self.id = id
            self.at = at
            self.kind = kind
            self.township = township
            self.key = key
            self.message = message
        }
    }

    public var townships: [Township]
    public var totals: Totals
    /// The newest events, newest first (absent from older coordinators).
    public var events: [Event]?

    public init(townships: [Township], totals: Totals, events: [Event]? = nil) {
        self.townships = townships
        self.totals = totals
        self.events = events
    }
}

/// `tally` params: optionally one contest and/or one round.
public struct TallyParams: Codable, Sendable, Equatable {
    public var contest: String?
    public var round: String?

    public init(contest: String? = nil, round: String? = nil) {
        self.contest = contest
        self.round = round
    }
}

/// `tally` result.
public struct TallyResult: Codable, Sendable, Equatable {
    public struct Candidate: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var votes: Int
    }

    public struct Round: Codable, Sendable, Equatable {
        public var contest: String
        public var title: String
        public var round: String
        public var closed: Bool
        public var candidates: [Candidate]
        public var valid: Int
        public var invalid: Int
        public var quarantined: Int
        public var townshipsReporting: [String]
    }

    public var rounds: [Round]

    public init(_ tallies: [RoundTally]) {
        rounds = tallies.map { tally in
            Round(
                contest: tally.contest, title: tally.title, round: tally.round, closed: tally.closed,
                candidates: tally.candidates.map { Candidate(id: $0.id, name: $0.name, votes: $0.votes) },
                valid: tally.valid, invalid: tally.invalid, quarantined: tally.quarantined, townshipsReporting: tally.townshipsReporting
            )
        }
    }
}

/// `conflicts` result: every open conflict with its sibling versions.
public struct ConflictsResult: Codable, Sendable, Equatable {
    public struct Conflict: Codable, Sendable, Equatable {
        public var key: String
        public var kind: String
        public var township: String
        /// `concurrent` or `integrity`.
        public var reason: String
        /// The merged value every node shows meanwhile.
        public var current: JSONValue
        public var siblings: [JSONValue]

        public init(key: String, kind: String, township: String, reason: String, current: JSONValue, siblings: [JSONValue]) {
            self.key = key
            self.kind = kind
            self.township = township
            self.reason = reason
            self.current = current
            self.siblings = siblings
        }
    }

    public var conflicts: [Conflict]
    /// More conflicts are open than this answer holds within the operator's frame: the oldest are
    /// here; resolving them brings the next.
    public var more: Bool

    public init(conflicts: [Conflict], more: Bool = false) {
        self.conflicts = conflicts
        self.more = more
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        conflicts = try container.decode([Conflict].self, forKey: .conflicts)
        more = try container.decodeIfPresent(Bool.self, forKey: .more) ?? false
    }
}

/// `put` params: how the county publishes contests and edits findings.
public struct PutParams: Codable, Sendable, Equatable {
    public var kind: String
    public var key: String
    public var data: JSONValue
    public var deleted: Bool?

    public init(kind: String, key: String, data: JSONValue, deleted: Bool? = nil) {
        self.kind = kind
        self.key = key
        self.data = data
        self.deleted = deleted
    }
}

/// `resolve` params: the value that ends a conflict.
public struct ResolveParams: Codable, Sendable, Equatable {
    public var key: String
    public var data: JSONValue

    public init(key: String, data: JSONValue) {
        self.key = key
        self.data = data
    }
}

/// The result of `put` and `resolve`: the new version.
public struct VersionResult: Codable, Sendable, Equatable {
    public var record: JSONValue

    public init(record: JSONValue) {
        self.record = record
    }
}

/// `closeRound` params.
public struct CloseRoundParams: Codable, Sendable, Equatable {
    public var contest: String
    public var round: String
    /// Close although a store of the contest's township has not reported an empty outbox since
    /// the coordinator started (an extension of DESIGN §3.3).
    public var evenIfBehind: Bool?

    public init(contest: String, round: String, evenIfBehind: Bool? = nil) {
        self.contest = contest
        self.round = round
        self.evenIfBehind = evenIfBehind
    }
}

/// `closeRound` result.
public struct CloseRoundResult: Codable, Sendable, Equatable {
    public var contest: String
    public var round: String
    /// False when the round was already closed.
    public var newlyClosed: Bool

    public init(contest: String, round: String, newlyClosed: Bool) {
        self.contest = contest
        self.round = round
        self.newlyClosed = newlyClosed
    }
}

/// `rejected` params: optionally one township, and how many at most (newest first).
public struct RejectedParams: Codable, Sendable, Equatable {
    public var township: String?
    public var limit: Int?
    /// Only those held before the entry of this `id`: the next page of an answer that said `more`.
    public var before: Int64?

    public init(township: String? = nil, limit: Int? = nil, before: Int64? = nil) {
        self.township = township
        self.limit = limit
        self.before = before
    }

    enum CodingKeys: String, CodingKey {
        case township, limit, before
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        township = try container.decodeIfPresent(String.self, forKey: .township)
        limit = try container.decodeIfPresent(Int.self, forKey: .limit)
        before = try container.decodeIfPresent(Int64.self, forKey: .before)
        if let township, !(township == RecordRules.countyScope || NodeName.isValid(township)) {
            throw DecodingError.dataCorruptedError(forKey: .township, in: container, debugDescription: "township must be a node id or county")
        }
        if let limit, !(1...1_000).contains(limit) {
            throw DecodingError.dataCorruptedError(forKey: .limit, in: container, debugDescription: "limit must be 1 to 1000")
        }
        if let before, before < 1 {
            throw DecodingError.dataCorruptedError(forKey: .before, in: container, debugDescription: "before must be an entry's id (1 or more)")
        }
    }
}

/// `rejected` result: versions held aside because they were refused (DESIGN §3.5).
public struct RejectedResult: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// Its place in the held-aside area: `before` in the next call pages on from here.
        public var id: Int64?
        public var key: String
        public var township: String
        /// The node that sent it, and from which of its stores.
        public var sender: String
        public var store: String
        /// `forbidden`, `forged_clock` or `invalid`.
        public var reason: String
        public var message: String
        /// When it was refused, ISO 8601.
        public var at: String
        /// The version itself, as it was sent.
        public var version: JSONValue

        public init(
            id: Int64? = nil, key: String, township: String, sender: String, store: String, reason: String, message: String, at: String,
            version: JSONValue
        ) {
            self.id = id
            self.key = key
            self.township = township
            self.sender = sender
            self.store = store
            self.reason = reason
            self.message = message
            self.at = at
            self.version = version
        }
    }

    public var rejected: [Entry]
    /// More are held than this answer holds within the operator's frame or the limit: ask for one
    /// township, or a smaller limit.
    public var more: Bool

    public init(more: Bool = false, rejected: [Entry]) {
        self.rejected = rejected
        self.more = more
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rejected = try container.decode([Entry].self, forKey: .rejected)
        more = try container.decodeIfPresent(Bool.self, forKey: .more) ?? false
    }
}
