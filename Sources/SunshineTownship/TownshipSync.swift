import Foundation
import Logging
import SunshineModel
import SunshineStore

/// One connected stretch of a township's sync (DESIGN §3.5): resume from the county's checkpoint,
/// push the outbox in order with a small window of pushes awaiting answers, each batch bounded in
/// bytes by what the county accepts, and pull until caught up whenever told there may be
/// something new. Any failure ends the stretch (it is thrown); the agent reconnects and starts
/// over from what the county durably holds.
///
/// It never sleeps: it waits on the signals it is given — `outbox` when the township may have
/// written something, `pull` when the county may hold something new — so a test drives it step by
/// step, and the agent decides what wakes it.
public struct TownshipSync: Sendable {
    public struct Options: Sendable {
        /// Records per push at most, and pushes awaiting their answer at once.
        public var batch = 200
        public var window = 4
        public var pullLimit = 500

        public init() {}
    }

    /// What happened, for logs, the demo and tests.
    public enum Event: Sendable, Equatable {
        case pushed(upto: Int64, accepted: Int, duplicates: Int, conflicts: Int, rejected: Int)
        case pulled(count: Int, upto: Int64)
    }

    public let township: Township
    public let link: any CountyLink
    public let options: Options
    let logger: Logger
    let events: (@Sendable (Event) -> Void)?

    public init(
        township: Township, link: any CountyLink, options: Options = Options(), logger: Logger = Logger(label: "sunshine.township"),
        events: (@Sendable (Event) -> Void)? = nil
    ) {
        self.township = township
        self.link = link
        self.options = options
        self.logger = logger
        self.events = events
    }

    var store: any ReplicaStore { township.store }

    /// Runs until a signal stream ends or a call fails (which is thrown).
    ///
    /// - Parameter start: what the county said at hello. Its checkpoint wins over the township's
    ///   own memory — the county may have been restored from a backup, and then this store sends
    ///   again what the county lacks.
    /// - Throws: ``TownshipSyncError/storeRestored`` when the county holds more of this store than
    ///   the store itself does: the store was restored from an older copy. It then has a new store
    ///   id already, so the next session sends everything it holds as the new store it is.
    public func run(_ start: SessionStart, outbox: AsyncStream<Void>, pull: AsyncStream<Void>) async throws {
        let (restored, returning) = try await store.write { tx in
            if start.checkpoint > 0 {
                let head = try tx.head(at: start.checkpoint)
                if head == nil || (start.checkpointHead != nil && head != start.checkpointHead) {
                    try tx.renewIdentity()
                    return (true, false)
                }
            }
            try tx.setCheckpoint(Township.acked, to: start.checkpoint)
            if let pullFrom = start.pullFrom {
                // Pulling again and returning the county's versions belong together: the duty to
                // return them is kept until done, whatever ends this session first.
                try tx.setPullPosition(PullPosition(upto: pullFrom, head: pullFrom == 0 ? LogChain.origin : ""))
                try tx.setCheckpoint(Township.returning, to: 1)
            }
            return (false, try tx.checkpoint(Township.returning) == 1)
        }
        if restored { throw TownshipSyncError.storeRestored(checkpoint: start.checkpoint) }
        if returning {
            try await returnCountyVersions(at: start.checkpoint, batchBytes: start.batchBytes)
            try await store.write { try $0.setCheckpoint(Township.returning, to: 0) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pushOutbox(after: start.checkpoint, batchBytes: start.batchBytes, signals: outbox) }
            group.addTask { try await pullWhenSignalled(pull) }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Pushes the outbox in order, `window` batches at a time, and waits for a signal when it is empty.
    func pushOutbox(after checkpoint: Int64, batchBytes: Int, signals: AsyncStream<Void>) async throws {
        var sent = checkpoint
        var wakes = signals.makeAsyncIterator()
        try await withThrowingTaskGroup(of: (OutboxBatch, PushReceipt).self) { group in
            var inFlight = 0
            while !Task.isCancelled {
                while inFlight < options.window, let batch = try await nextBatch(after: sent, bytes: batchBytes) {
                    let pending = try await link.send(batch)
                    sent = batch.upto
                    group.addTask { (batch, try await pending.receipt()) }
                    inFlight += 1
                }
                if inFlight > 0, let (batch, receipt) = try await group.next() {
                    inFlight -= 1
                    try await acknowledge(receipt, of: batch)
                } else if await wakes.next() == nil {
                    return
                }
            }
        }
    }

    /// After the county's log was found restored or rolled back, sends back the county's own
    /// versions this store holds, in batches that do not move the checkpoint: the county keeps the
    /// ones it lost aside for its operators (DESIGN §3.5: nothing received is discarded), and
    /// counts the others as duplicates.
    func returnCountyVersions(at checkpoint: Int64, batchBytes: Int) async throws {
        var cursor: Int64 = 0
        while let batch = try await nextBatch(of: Authorization.countyNode, after: cursor, bytes: batchBytes) {
            cursor = batch.upto
            _ = try await link.send(OutboxBatch(records: batch.records, after: checkpoint, upto: checkpoint)).receipt()
        }
    }

    /// The next batch of the outbox after `sent`: at most `options.batch` records and `bytes`
    /// bytes of them, never empty while something is unsent (one record always fits: records are
    /// at most 16 KiB, frames at least 64 KiB).
    func nextBatch(after sent: Int64, bytes: Int) async throws -> OutboxBatch? {
        try await nextBatch(of: township.node, after: sent, bytes: bytes)
    }

    private func nextBatch(of node: String, after sent: Int64, bytes: Int) async throws -> OutboxBatch? {
        let limit = options.batch
        return try await store.read { snapshot in
            var records: [Record] = []
            var upto = sent
            var total = 0
            for version in try snapshot.outbox(of: node, after: sent, limit: limit) {
                let size = version.record.canonical.utf8.count + 1
                if !records.isEmpty && total + size > bytes { break }
                records.append(version.record)
                upto = version.seq
                total += size
            }
            guard !records.isEmpty else { return nil }
            return OutboxBatch(records: records, after: sent, upto: upto, head: try snapshot.head(at: upto))
        }
    }

    private func acknowledge(_ receipt: PushReceipt, of batch: OutboxBatch) async throws {
        let identity = try await store.read { try $0.identity() }
        let node = township.node
        let now = Date()
        // The county commits a store's pushes gap-free and in order, so the highest answered `upto`
        // is durable there together with everything before it. What it refused, the township keeps
        // visible to its clerks.
        try await store.write { tx in
            try tx.advanceCheckpoint(Township.acked, to: receipt.upto)
            try tx.setCheckpoint(Township.syncedAt, to: Int64(now.timeIntervalSince1970 * 1000))
            for refusal in receipt.refused {
                let version = batch.records.last { $0.key == refusal.key }
                try tx.holdAside(Refusal(
                    node: node, store: identity.storeID, key: refusal.key, township: version?.township ?? node, reason: refusal.reason,
                    message: refusal.message, at: now.formatted(.iso8601), version: version?.canonical ?? "{}"
                ))
            }
        }
        for refusal in receipt.refused {
            logger.warning("the coordinator refused \(refusal.key): \(refusal.message) [\(refusal.reason)]")
        }
        events?(.pushed(upto: receipt.upto, accepted: receipt.accepted, duplicates: receipt.duplicates, conflicts: receipt.conflicts, rejected: receipt.refused.count))
    }

    /// Pulls until caught up on every signal.
    func pullWhenSignalled(_ signals: AsyncStream<Void>) async throws {
        // Only this loop advances the pull position, so it is read once and then followed here.
        var since = try await store.read { try $0.pullPosition().upto }
        for await _ in signals {
            var more = true
            while more {
                let page = try await link.pull(since: since, limit: options.pullLimit)
                for problem in page.unreadable {
                    logger.error("ignored a record from the coordinator that cannot be read: \(problem)")
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try await store.write { tx in
                    for record in page.records { try tx.apply(record) }
                    try tx.setPullPosition(PullPosition(upto: page.upto, head: page.head))
                    try tx.setCheckpoint(Township.syncedAt, to: now)
                }
                if !page.records.isEmpty { events?(.pulled(count: page.records.count, upto: page.upto)) }
                since = page.upto
                more = page.more
            }
        }
    }
}

/// Why a township's sync stopped on its own account.
public enum TownshipSyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The county holds changes of this store that the store no longer has — it was restored from an
    /// older copy. It has taken a new store id, and re-sends everything it holds under it.
    case storeRestored(checkpoint: Int64)

    public var description: String {
        switch self {
        case .storeRestored(let checkpoint):
            return "The county holds changes of this store up to \(checkpoint) that the store no longer has (it was restored from an older copy); "
                + "it continues as a new store and sends everything it holds again."
        }
    }
}
