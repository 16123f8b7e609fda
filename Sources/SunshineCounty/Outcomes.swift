import Foundation
import SunshineModel

/// A batch an agent pushed, decoded: each entry a record that passed the record rules, or the key
/// and reason of one that did not (it is answered as rejected; the rest of the batch applies).
public struct PushBatch: Sendable, Equatable {
    public enum Entry: Sendable, Equatable {
        case record(Record)
        /// Refused before anything else: the key (as far as it could be read), why, and what was sent.
        case unreadable(key: String, error: RecordError, json: JSONValue)

        /// Reads one pushed record on its own: one that is malformed or breaks the record rules is
        /// kept as refused with its reason, so the rest of its batch still applies.
        public init(json: JSONValue) {
            do throws(RecordError) {
                let record = try Record(json: json)
                try RecordRules.validate(record)
                self = .record(record)
            } catch {
                self = .unreadable(key: json["key"]?.stringValue ?? "(no key)", error: error, json: json)
            }
        }
    }

    public var entries: [Entry]
    /// The agent's change-log position the batch continues from: the `upto` of the batch before it.
    public var after: Int64
    /// The agent's change-log sequence number of the last change in the batch.
    public var upto: Int64
    /// The agent's own log head at `upto`, when it says (an extension of DESIGN §3.3).
    public var head: String?

    public init(entries: [Entry], after: Int64, upto: Int64, head: String? = nil) {
        self.entries = entries
        self.after = after
        self.upto = upto
        self.head = head
    }

    public init(records: [Record], after: Int64, upto: Int64, head: String? = nil) {
        self.init(entries: records.map(Entry.record), after: after, upto: upto, head: head)
    }
}

/// What a push did: per-record outcomes, the checkpoint reached and who must hear of it.
public struct PushOutcome: Sendable, Equatable {
    public struct Rejection: Sendable, Equatable {
        public var key: String
        public var error: RecordError

        public init(key: String, error: RecordError) {
            self.key = key
            self.error = error
        }
    }

    /// The agent's checkpoint after this push.
    public var upto: Int64
    public var accepted = 0
    public var duplicates = 0
    public var conflicts = 0
    /// The keys of the versions counted in `conflicts`, in the batch's order.
    public var conflicted: [String] = []
    public var rejected: [Rejection] = []
    /// The townships that must hear `changed`.
    public var audience = Audience()
    /// The county's change-log position once the push committed.
    public var logUpto: Int64 = 0
    /// Contest versions the county wrote because the township returned closures it had lost.
    public var reclosed: [Written] = []
    /// Why a returned closure could not be taken back (the version stays held aside).
    public var notReclosed: [String] = []

    public init(upto: Int64) {
        self.upto = upto
    }
}

/// Versions meant for a township, the position they bring it to with the log's head there, and
/// whether more are waiting.
public struct PullPage: Sendable, Equatable {
    public var records: [Record]
    public var upto: Int64
    public var head: String
    public var more: Bool

    public init(records: [Record], upto: Int64, head: String, more: Bool) {
        self.records = records
        self.upto = upto
        self.head = head
        self.more = more
    }

    public static let defaultLimit = 500
    public static let maxLimit = 2_000
}

/// Which store of which township is speaking: the agent's node id and the store id from its hello.
public struct AgentSession: Sendable, Hashable {
    public var node: String
    public var store: String

    public init(node: String, store: String) {
        self.node = node
        self.store = store
    }

    /// What this store reads of the county's log.
    public var reader: Routing.Reader { Routing.Reader(township: node, store: store) }
}

/// What the county tells an agent store at hello: what it holds of it, and where to pull from.
public struct Welcome: Sendable, Equatable {
    /// Every change of the store up to here is durable at the county; pushes resume after it.
    public var checkpoint: Int64
    /// The agent's own log head at `checkpoint`, as it reported it when pushing.
    public var checkpointHead: String?
    /// When present, the agent must pull again from here: the county's log is not the one it pulled.
    public var pullFrom: Int64?
}

/// A version the county wrote (`put`, `resolve`) and who must hear of it.
public struct Written: Sendable, Equatable {
    public var record: Record
    public var audience: Audience
    /// The county's change-log position once the write committed.
    public var logUpto: Int64
    /// The rounds of a contest this write closed.
    public var closed: [String] = []
}

/// What operators watch: per township, who is online, its checkpoint, outbox and counts.
public struct CountyStatus: Sendable, Equatable {
    public struct Township: Sendable, Equatable {
        public var node: String
        public var online: Bool
        public var lastSeen: Date?
        /// The township's newest store (the last to say hello), and the highest change of it the
        /// county holds durably with every change before it.
        public var store: String?
        public var checkpoint: Int64
        /// What the agent last reported in a ping: its newest sequence number and unsent changes.
        public var reportedSeq: Int64?
        public var outbox: Int64?
        public var ballots: Int
        public var findings: Int
        public var conflicts: Int
        /// Versions it sent that were refused and are held aside.
        public var rejected: Int
        /// Findings about it still open or under investigation, by severity.
        public var openFindings: [Finding.Severity: Int]
    }

    public struct Totals: Sendable, Equatable {
        public var townships: Int
        public var online: Int
        public var ballots: Int
        public var findings: Int
        public var contests: Int
        public var openConflicts: Int
        public var quarantined: Int
        public var rejected: Int
        /// The county's newest change-log sequence number.
        public var seq: Int64
        /// When records operators count last changed since the coordinator started, if they did.
        public var lastChange: Date?
    }

    public var townships: [Township]
    public var totals: Totals
    /// The newest events, newest first (at most ``eventLimit``).
    public var events: [CountyEvent]

    /// How many events `status` returns.
    public static let eventLimit = 20
}

/// Why the county refused a request, in one sentence saying what to do. The coordinator's
/// responder maps each case to its protocol error (DESIGN §3.2) in one place.
public enum CountyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request's parameters do not make sense (`invalid_params`).
    case invalid(String)
    /// The identity may not do this (`forbidden`).
    case forbidden(String)
    /// A push that does not continue from the durable checkpoint (`out_of_order`); nothing of it
    /// was applied, and the agent resumes after `checkpoint`.
    case outOfOrder(checkpoint: Int64)

    public var message: String {
        switch self {
        case .invalid(let message), .forbidden(let message): return message
        case .outOfOrder(let checkpoint):
            return "This push does not continue from the county's durable checkpoint \(checkpoint) for this store; nothing of it was applied. Resume after \(checkpoint)."
        }
    }

    public var description: String { message }
}
