import SunshineModel

/// The county as a township's sync sees it: where the outbox goes and what comes back. The agent
/// implements it over its RPC connection; tests implement it over a ``County`` in the same
/// process, so the township's sync logic runs without sockets.
public protocol CountyLink: Sendable {
    /// Sends one batch of the outbox; answers once the county holds it durably. Batches are
    /// applied in the order they were sent.
    func push(_ batch: OutboxBatch) async throws -> PushReceipt

    /// Versions meant for this township after the county's position `since`.
    func pull(since: Int64, limit: Int) async throws -> PulledPage
}

/// Changes this township wrote, in change-log order, up to and including sequence number `upto`.
public struct OutboxBatch: Sendable, Equatable {
    public var records: [Record]
    public var upto: Int64

    public init(records: [Record], upto: Int64) {
        self.records = records
        self.upto = upto
    }
}

/// The county's answer to a push.
public struct PushReceipt: Sendable, Equatable {
    public struct Refusal: Sendable, Equatable {
        public var key: String
        public var reason: String
        public var message: String

        public init(key: String, reason: String, message: String) {
            self.key = key
            self.reason = reason
            self.message = message
        }
    }

    /// The township's checkpoint the county now holds.
    public var upto: Int64
    public var accepted: Int
    public var duplicates: Int
    public var conflicts: Int
    public var refused: [Refusal]

    public init(upto: Int64, accepted: Int, duplicates: Int, conflicts: Int, refused: [Refusal]) {
        self.upto = upto
        self.accepted = accepted
        self.duplicates = duplicates
        self.conflicts = conflicts
        self.refused = refused
    }
}

/// A page of what the county holds for this township.
public struct PulledPage: Sendable, Equatable {
    public var records: [Record]
    /// Why each record that could not be read was left out.
    public var unreadable: [String]
    public var upto: Int64
    public var more: Bool

    public init(records: [Record], unreadable: [String] = [], upto: Int64, more: Bool) {
        self.records = records
        self.unreadable = unreadable
        self.upto = upto
        self.more = more
    }
}
