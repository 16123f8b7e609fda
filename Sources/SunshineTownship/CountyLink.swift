import SunshineModel

/// The county as a township's sync sees it: where the outbox goes and what comes back. The agent
/// implements it over its RPC connection; tests implement it over a ``County`` in the same
/// process, so the township's sync logic runs without sockets.
public protocol CountyLink: Sendable {
    /// Sends one batch of the outbox, after every batch sent before it, and returns without
    /// waiting for the answer: the county applies batches in the order they were sent.
    func send(_ batch: OutboxBatch) async throws -> PendingReceipt

    /// Versions meant for this township's store after the county's position `since`.
    func pull(since: Int64, limit: Int) async throws -> PulledPage
}

/// A push on its way: ``receipt()`` waits for the county's answer, given once the batch is durable.
public struct PendingReceipt: Sendable {
    private let wait: @Sendable () async throws -> PushReceipt

    public init(_ wait: @escaping @Sendable () async throws -> PushReceipt) {
        self.wait = wait
    }

    public func receipt() async throws -> PushReceipt {
        try await wait()
    }
}

/// Changes this township wrote, in change-log order: those after `after` up to and including
/// sequence number `upto`, and the township's log head at `upto`.
public struct OutboxBatch: Sendable, Equatable {
    public var records: [Record]
    public var after: Int64
    public var upto: Int64
    public var head: String?

    public init(records: [Record], after: Int64, upto: Int64, head: String? = nil) {
        self.records = records
        self.after = after
        self.upto = upto
        self.head = head
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

/// A page of what the county holds for this township, and the county's log head where it ends.
public struct PulledPage: Sendable, Equatable {
    public var records: [Record]
    /// Why each record that could not be read was left out.
    public var unreadable: [String]
    public var upto: Int64
    public var head: String
    public var more: Bool

    public init(records: [Record], unreadable: [String] = [], upto: Int64, head: String, more: Bool) {
        self.records = records
        self.unreadable = unreadable
        self.upto = upto
        self.head = head
        self.more = more
    }
}

/// What the county said at hello that the township's sync starts from.
public struct SessionStart: Sendable, Equatable {
    /// Every change of this store up to here is durable at the county.
    public var checkpoint: Int64
    /// This store's log head at `checkpoint` as the county last heard it, if it did.
    public var checkpointHead: String?
    /// When present, pull again from here: the county's log is not the one this store pulled.
    public var pullFrom: Int64?
    /// How many bytes of records one push may carry: the county's maxFrame less the envelope.
    public var batchBytes: Int

    public init(checkpoint: Int64, checkpointHead: String? = nil, pullFrom: Int64? = nil, batchBytes: Int) {
        self.checkpoint = checkpoint
        self.checkpointHead = checkpointHead
        self.pullFrom = pullFrom
        self.batchBytes = batchBytes
    }
}
