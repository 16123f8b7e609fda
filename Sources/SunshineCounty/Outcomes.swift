import Foundation
import SunshineModel

/// A batch an agent pushed, decoded: each entry a record that passed the record rules, or the key
/// and reason of one that did not (it is answered as rejected; the rest of the batch applies).
public struct PushBatch: Sendable, Equatable {
    public enum Entry: Sendable, Equatable {
        case record(Record)
        case unreadable(key: String, error: RecordError)

        /// Reads one pushed record on its own: one that is malformed or breaks the record rules is
        /// kept as refused with its reason, so the rest of its batch still applies.
        public init(json: JSONValue) {
            do throws(RecordError) {
                let record = try Record(json: json)
                try RecordRules.validate(record)
                self = .record(record)
            } catch {
                self = .unreadable(key: json["key"]?.stringValue ?? "(no key)", error: error)
            }
        }
    }

    public var entries: [Entry]
    /// The agent's change-log sequence number of the last change in the batch.
    public var upto: Int64

    public init(entries: [Entry], upto: Int64) {
        self.entries = entries
        self.upto = upto
    }

    public init(records: [Record], upto: Int64) {
        self.init(entries: records.map(Entry.record), upto: upto)
    }

    /// The most records one push may carry.
    public static let maxRecords = 1_000
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
    public var rejected: [Rejection] = []
    /// The townships that must hear `changed`.
    public var audience = Audience()
    /// The county's change-log position once the push committed.
    public var logUpto: Int64 = 0

    public init(upto: Int64) {
        self.upto = upto
    }
}

/// Versions meant for a township, the position they bring it to, and whether more are waiting.
public struct PullPage: Sendable, Equatable {
    public var records: [Record]
    public var upto: Int64
    public var more: Bool

    public init(records: [Record], upto: Int64, more: Bool) {
        self.records = records
        self.upto = upto
        self.more = more
    }

    public static let defaultLimit = 500
    public static let maxLimit = 2_000
}

/// A version the county wrote (`put`, `resolve`) and who must hear of it.
public struct Written: Sendable, Equatable {
    public var record: Record
    public var audience: Audience
    /// The county's change-log position once the write committed.
    public var logUpto: Int64
}

/// What operators watch: per township, who is online, its checkpoint, outbox and counts.
public struct CountyStatus: Sendable, Equatable {
    public struct Township: Sendable, Equatable {
        public var node: String
        public var online: Bool
        public var lastSeen: Date?
        /// The highest change-log sequence number of this township the county holds durably.
        public var checkpoint: Int64
        /// What the agent last reported in a ping: its newest sequence number and unsent changes.
        public var reportedSeq: Int64?
        public var outbox: Int64?
        public var ballots: Int
        public var findings: Int
        public var conflicts: Int
    }

    public struct Totals: Sendable, Equatable {
        public var townships: Int
        public var online: Int
        public var ballots: Int
        public var findings: Int
        public var contests: Int
        public var openConflicts: Int
        public var quarantined: Int
        /// The county's newest change-log sequence number.
        public var seq: Int64
    }

    public var townships: [Township]
    public var totals: Totals
}

/// Why the county refused a request, in one sentence saying what to do. The coordinator's
/// responder maps each case to its protocol error (DESIGN §3.2) in one place.
public enum CountyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request's parameters do not make sense (`invalid_params`).
    case invalid(String)
    /// The identity may not do this (`forbidden`).
    case forbidden(String)

    public var message: String {
        switch self {
        case .invalid(let message), .forbidden(let message): return message
        }
    }

    public var description: String { message }
}
