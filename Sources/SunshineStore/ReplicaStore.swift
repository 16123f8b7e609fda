import Crypto
import Foundation
import SunshineModel

/// One node's durable store, in the terms replication needs (DESIGN §3.5–3.8): the township's
/// source of truth on an agent, the county's on the coordinator.
///
/// Everything that must be atomic happens in one ``write(_:)`` transaction: it commits whole, or
/// — when its body throws or the commit fails — leaves nothing behind. A caller acknowledges
/// nothing before `write` returns. ``SQLiteStore`` is the durable implementation; ``InMemoryStore``
/// has the same semantics for tests and benchmarks, and both pass one contract test suite.
public protocol ReplicaStore: Sendable {
    /// The node this store belongs to; local writes are made as this node.
    var node: String { get }

    /// Runs `body` on a consistent snapshot.
    func read<T: Sendable>(_ body: @Sendable (any StoreSnapshot) throws -> T) async throws -> T

    /// Runs `body` in one transaction, committed (durably, for a durable store) before this returns.
    func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T

    /// ``write(_:)``, calling `queued` once the write has its place in the store's order of writes:
    /// a write begun after `queued` runs after this one, and sees what it wrote if it committed.
    /// So pipelined pushes apply in order while one commits and the next is still being read.
    func write<T: Sendable>(
        _ body: @Sendable (any StoreTransaction) throws -> T, queued: @escaping @Sendable () -> Void
    ) async throws -> T

    /// Writes a consistent copy of the whole store to a new file at `path` while the store is in
    /// use: what an operator keeps, and what a restore brings back.
    func backup(to path: String) async throws
}

extension ReplicaStore {
    /// A store whose writes are not queued calls `queued` when the write is done, which keeps the
    /// promise: nothing begun afterwards can run before it.
    public func write<T: Sendable>(
        _ body: @Sendable (any StoreTransaction) throws -> T, queued: @escaping @Sendable () -> Void
    ) async throws -> T {
        defer { queued() }
        return try await write(body)
    }
}

/// Queries over a store, inside a read snapshot or a write transaction.
public protocol StoreSnapshot {
    // MARK: Keys

    /// The current value and siblings of `key`, if it is held.
    func current(of key: String) throws -> CurrentRecord?
    /// Every version held for `key`, in change-log order.
    func history(of key: String) throws -> [StoredVersion]
    /// Whether this very version (same clock, same content) is held.
    func holds(_ record: Record) throws -> Bool
    /// Every current record of a kind, by key.
    func currentRecords(kind: RecordKind) throws -> [CurrentRecord]
    /// The current merged values of a kind, by key, without their siblings.
    func currentValues(kind: RecordKind) throws -> [CurrentValue]

    // MARK: The store itself

    /// This store's id and the actor its local writes are made as (DESIGN §3.5, §3.6).
    func identity() throws -> StoreIdentity

    // MARK: The change log

    /// The newest change-log sequence number (0 when empty).
    func latestSeq() throws -> Int64
    /// The hash-chain head after change `seq` in hex (``LogChain``), or nil when the log is shorter.
    func head(at seq: Int64) throws -> String?
    /// Versions after `seq` in change-log order; with `reader`, only those it reads (``Routing``).
    func changes(after seq: Int64, for reader: Routing.Reader?, limit: Int) throws -> [StoredVersion]
    /// Versions `origin` wrote itself after `seq`, in order: an agent's outbox.
    func outbox(of origin: String, after seq: Int64, limit: Int) throws -> [StoredVersion]
    /// How many versions `origin` wrote after `seq`.
    func outboxCount(of origin: String, after seq: Int64) throws -> Int64

    // MARK: Positions

    /// A named position (0 when never set).
    func checkpoint(_ name: String) throws -> Int64
    /// Every position whose name starts with `prefix`, keyed by the rest of the name.
    func checkpoints(prefix: String) throws -> [String: Int64]
    /// Where this store has pulled the county's log up to, and the log's head there.
    func pullPosition() throws -> PullPosition
    /// What the county holds of one agent store, if it has heard from it.
    func agentStore(node: String, store: String) throws -> AgentStore?
    /// Every agent store the county has heard from.
    func agentStores() throws -> [AgentStore]

    // MARK: Refused versions

    /// Versions held aside because they were refused (DESIGN §3.5), newest first; with
    /// `township`, only those of that scope or sender; with `before`, only those held before the
    /// one of that ``Refusal/id``.
    func refusals(township: String?, before: Int64?, limit: Int) throws -> [Refusal]
    /// Every refused version of `key` held aside.
    func refusals(key: String) throws -> [Refusal]
    /// Refused versions held aside, per sending node.
    func refusalCounts() throws -> [String: Int]

    // MARK: What operators watch

    /// Current, not deleted records per scope and kind.
    func counts() throws -> [String: [RecordKind: Int]]
    /// The current ballots grouped for the tally (``BallotGroup``), optionally of one contest and round.
    func ballotGroups(contest: String?, round: String?) throws -> [BallotGroup]
    /// Every open conflict with its siblings, oldest first.
    func openConflicts() throws -> [OpenConflict]
    /// Open conflicts per scope.
    func openConflictCounts() throws -> [String: Int]
    /// Current records held aside: a duplicated or forged ballot serial, or a ballot after its round closed.
    func quarantinedCount() throws -> Int

    // MARK: Rounds

    func isRoundClosed(contest: String, round: String) throws -> Bool
    func closedRounds() throws -> [ClosedRound]
}

/// What a write transaction may do; everything done through one transaction commits together.
public protocol StoreTransaction: StoreSnapshot {
    /// The node this store belongs to.
    var node: String { get }

    /// Applies one version by DESIGN §3.6: a duplicate changes nothing; anything else joins the
    /// history and change log, and the key's siblings, merged value and conflict follow.
    /// `source` is the agent store it was received from, if any: that store is never sent it back.
    @discardableResult
    func apply(_ record: Record, flag: VersionFlag?, source: String?) throws -> ApplyDecision

    /// Applies a version another node offers: one held already is a duplicate, whoever sends it;
    /// otherwise `authorize` sees the join of the clocks held for the key and may refuse it;
    /// otherwise it is applied like ``apply(_:flag:source:)``. One look at the key serves all three.
    func offer(
        _ record: Record, flag: VersionFlag?, source: String?, authorize: (VersionVector) throws(RecordError) -> Void
    ) throws -> Offered

    /// Moves a named position forward to `seq`; never backwards (an answer to an earlier request
    /// arriving late changes nothing).
    func advanceCheckpoint(_ name: String, to seq: Int64) throws
    /// Sets a named position, forwards or backwards.
    func setCheckpoint(_ name: String, to seq: Int64) throws
    /// Closes a round; returns false if it was closed already.
    func closeRound(contest: String, round: String) throws -> Bool

    /// Writes a new version as this store's node over what `check` sees held for the key (it may
    /// refuse by throwing): its clock dominates every version held and `extra` besides (DESIGN
    /// §3.6), so it replaces them all — and so closes any conflict on the key.
    ///
    /// - Throws: what `check` throws, or ``RecordError`` when the new version breaks the record rules.
    func write(
        kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool, at date: Date, over extra: VersionVector,
        check: (CurrentRecord?) throws -> Void
    ) throws -> Record

    /// Records where the county's log has been pulled up to.
    func setPullPosition(_ position: PullPosition) throws
    /// Records what the county holds of an agent store.
    func saveAgentStore(_ store: AgentStore) throws
    /// Forgets all but the `count` stores of `node` that said hello last, and those in `keeping`
    /// (DESIGN §3.9). A store forgotten and seen again starts from checkpoint 0 and re-sends what
    /// it holds: duplicates.
    func keepNewestStores(of node: String, count: Int, keeping: Set<String>) throws
    /// Holds a refused version aside; returns false when it was held already, or the sender's
    /// share of the held-aside area (``Refusal/maxPerNode``) is full.
    @discardableResult
    func holdAside(_ refusal: Refusal) throws -> Bool

    /// Starts a new actor for this store's local writes: every start of a long-running node
    /// process does, so a store restored from a backup or a rolled-back VM never reuses counters.
    func beginIncarnation() throws
    /// Gives this store a new id and a new actor: for a store that finds it was restored from an
    /// older copy, so the county treats it as the new store it now is.
    func renewIdentity() throws
}

extension StoreTransaction {
    @discardableResult
    public func apply(_ record: Record, flag: VersionFlag? = nil) throws -> ApplyDecision {
        try apply(record, flag: flag, source: nil)
    }

    /// Writes a new version as this store's node: its clock dominates every version held for the
    /// key (DESIGN §3.6), and `extra` besides, so it replaces them all — and so closes any conflict
    /// on the key.
    ///
    /// - Throws: ``RecordError`` when the new version breaks the record rules.
    @discardableResult
    public func write(
        kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool = false, at date: Date = Date(),
        over extra: VersionVector = VersionVector()
    ) throws -> Record {
        try write(kind: kind, key: key, township: township, data: data, deleted: deleted, at: date, over: extra, check: { _ in })
    }
}

/// What became of a version another node offered.
public enum Offered: Sendable, Equatable {
    /// Held already: nothing to do.
    case duplicate
    /// Refused by the authorization rule, with its reason.
    case refused(RecordError)
    case applied(ApplyDecision)
}

/// A key's current state as readers see it.
public struct CurrentRecord: Sendable, Equatable {
    /// The merged value every node shows.
    public var value: Record
    public var siblings: [Record]
    public var quarantined: Bool
    public var conflict: ConflictReason?

    public init(_ state: KeyState) {
        value = state.value
        siblings = state.siblings.map(\.record)
        quarantined = state.quarantined
        conflict = state.conflict
    }

    public var inConflict: Bool { siblings.count > 1 }
    /// The join of every held version's clock.
    public var heldClock: VersionVector { VersionVector.join(siblings.map(\.clock)) }
}

/// A key's merged value, for counts and the tally.
public struct CurrentValue: Sendable, Equatable {
    public var value: Record
    public var quarantined: Bool

    public init(value: Record, quarantined: Bool) {
        self.value = value
        self.quarantined = quarantined
    }
}

/// An open conflict: the key and the versions that disagree.
public struct OpenConflict: Sendable, Equatable {
    public var key: String
    public var kind: RecordKind
    public var township: String
    public var reason: ConflictReason
    public var siblings: [Record]
    public var current: Record

    public init(key: String, kind: RecordKind, township: String, reason: ConflictReason, siblings: [Record], current: Record) {
        self.key = key
        self.kind = kind
        self.township = township
        self.reason = reason
        self.siblings = siblings
        self.current = current
    }
}

/// A (contest, round) pair after which ballots are quarantined.
public struct ClosedRound: Sendable, Hashable {
    public var contest: String
    public var round: String

    public init(contest: String, round: String) {
        self.contest = contest
        self.round = round
    }
}

/// A store's id — 128 random bits in hex, made when the store is created (DESIGN §3.5) — and the
/// actor its local writes are made as (``Actor``).
public struct StoreIdentity: Sendable, Equatable {
    public var storeID: String
    public var actor: String

    public init(storeID: String, actor: String) {
        self.storeID = storeID
        self.actor = actor
    }

    /// A new identity for a store of `node`.
    public static func fresh(for node: String) -> StoreIdentity {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        let id = String((0..<32).map { _ in digits[Int.random(in: 0..<16, using: &generator)] })
        return StoreIdentity(storeID: id, actor: Actor.fresh(for: node, using: &generator))
    }
}

/// Where a township has pulled the county's change log up to, and the log's hash-chain head there.
public struct PullPosition: Sendable, Equatable {
    public var upto: Int64
    public var head: String

    public init(upto: Int64, head: String) {
        self.upto = upto
        self.head = head
    }

    public static let start = PullPosition(upto: 0, head: LogChain.origin)
}

/// What the county holds of one agent store (DESIGN §3.5): every change up to `checkpoint`.
public struct AgentStore: Sendable, Equatable {
    public var node: String
    public var store: String
    public var checkpoint: Int64
    /// The agent's own log head at `checkpoint`, as it reported it: a store restored from an older
    /// copy shows another head there, and so finds out that it must start anew.
    public var checkpointHead: String?
    /// When the store last said hello, in milliseconds since 1970: a node's newest store is the one
    /// operators see.
    public var lastHello: Int64

    public init(node: String, store: String, checkpoint: Int64, checkpointHead: String?, lastHello: Int64) {
        self.node = node
        self.store = store
        self.checkpoint = checkpoint
        self.checkpointHead = checkpointHead
        self.lastHello = lastHello
    }

    /// How many stores of one node the county keeps checkpoints for (DESIGN §3.9): a township PC
    /// rebuilt or restored now and then needs a few; a client inventing store ids gets no more.
    public static let maxPerNode = 32
}

/// A version that was refused, held aside with who sent it, why and when (DESIGN §3.5): on the
/// coordinator what authorization or validation refused, on an agent what the county refused of
/// its own versions. Nothing received is discarded.
public struct Refusal: Sendable, Equatable {
    /// The node that sent the version (on an agent: the township itself).
    public var node: String
    public var store: String
    public var key: String
    /// The scope the version claimed, or the sender's township when unreadable.
    public var township: String
    /// `forbidden`, `forged_clock`, `invalid` or `round_closed`.
    public var reason: String
    public var message: String
    /// When it was refused, ISO 8601.
    public var at: String
    /// The refused version as JSON text.
    public var version: String
    /// Its place in the held-aside area, from 1 in the order held (0 until it is held).
    public var id: Int64 = 0

    public init(node: String, store: String, key: String, township: String, reason: String, message: String, at: String, version: String) {
        self.node = node
        self.store = store
        self.key = key
        self.township = township
        self.reason = reason
        self.message = message
        self.at = at
        self.version = Self.kept(version)
    }

    /// How many refused versions one node may make the county hold (DESIGN §3.9).
    public static let maxPerNode = 10_000

    /// The longest refused version kept whole: the longest a valid record can be.
    public static let maxVersionBytes = RecordRules.maxRecordBytes

    /// What is kept of a refused version (DESIGN §3.9). One longer than any valid record could
    /// never be applied, and thousands of them at frame size would fill the disk: it is kept as
    /// its length, its SHA-256 and its opening, enough to recognise it in the sender's store.
    static func kept(_ version: String) -> String {
        let bytes = version.utf8.count
        guard bytes > maxVersionBytes else { return version }
        let digest = LogChain.hex(Array(SHA256.hash(data: Array(version.utf8))))
        return CanonicalJSON.string([
            "truncated": true, "bytes": .int(Int64(bytes)), "sha256": .string(digest),
            "opening": .string(String(decoding: version.utf8.prefix(1_024), as: UTF8.self)),
        ])
    }
}
