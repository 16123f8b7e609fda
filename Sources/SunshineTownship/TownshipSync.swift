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
        /// Records per push at most (the protocol's most; batches are bounded in bytes too), and
        /// pushes awaiting their answer at once.
        public var batch = Replication.maxPushRecords
        public var window = 4
        public var pullLimit = 500

        public init() {}
    }

    /// What happened, for logs, the demo and tests. `pushed` is the county's answer, given once the
    /// batch is durable there; the township notes it in its own store right after.
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

    /// Pushes the outbox in order with up to `window` pushes awaiting their answers, and sends the
    /// next batch as soon as the window has room and the outbox has more: a clerk's ballot never
    /// waits for an earlier push's answer, nor for the township to note an answer in its own store.
    /// Answers are noted by one store write at a time — those that arrive during a write are noted
    /// together by the next — so a burst of answers costs one commit, not one each.
    func pushOutbox(after checkpoint: Int64, batchBytes: Int, signals: AsyncStream<Void>) async throws {
        enum Step: Sendable {
            case answered(OutboxBatch, PushReceipt)
            case signalled(ended: Bool)
            case noted
        }
        var sent = checkpoint
        // Where this store's batches must end: its checkpoints at the rounds' closes, read once a
        // session (a close the county makes meanwhile matters to re-sends after a restore, which
        // come in a session of their own).
        let township = self.township.node
        let closePoints = try await store.read { try Self.closePoints(in: $0, township: township) }
        try await withThrowingTaskGroup(of: Step.self) { group in
            defer { group.cancelAll() }
            var inFlight = 0
            var unnoted: [(OutboxBatch, PushReceipt)] = []
            var noting = false
            var listening = false
            var signalsEnded = false
            while !Task.isCancelled {
                while inFlight < options.window, let batch = try await nextBatch(after: sent, bytes: batchBytes, closePoints: closePoints) {
                    let pending = try await link.send(batch)
                    sent = batch.upto
                    group.addTask { .answered(batch, try await pending.receipt()) }
                    inFlight += 1
                }
                if !noting && !unnoted.isEmpty {
                    let answers = unnoted
                    unnoted = []
                    noting = true
                    group.addTask {
                        try await note(answers)
                        return .noted
                    }
                }
                if signalsEnded && inFlight == 0 && !noting { return }
                if !listening && !signalsEnded {
                    // One listener at a time: a signal stream has one consumer.
                    listening = true
                    group.addTask {
                        var wakes = signals.makeAsyncIterator()
                        return .signalled(ended: await wakes.next() == nil)
                    }
                }
                switch try await group.next() {
                case .answered(let batch, let receipt):
                    inFlight -= 1
                    unnoted.append((batch, receipt))
                    events?(.pushed(
                        upto: receipt.upto, accepted: receipt.accepted, duplicates: receipt.duplicates, conflicts: receipt.conflicts,
                        rejected: receipt.refused.count
                    ))
                case .signalled(let ended):
                    listening = false
                    signalsEnded = ended
                case .noted:
                    noting = false
                case nil:
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
    /// A batch of the township's own never spans one of `closePoints`: the county knows a paper was
    /// in time when its whole batch lies within the store's checkpoint at the close
    /// (Contest.paperIsLate) — which a county restored from an older copy must tell anew.
    func nextBatch(after sent: Int64, bytes: Int, closePoints: [Int64] = []) async throws -> OutboxBatch? {
        try await nextBatch(of: township.node, after: sent, bytes: bytes, cut: closePoints.filter { $0 > sent }.min())
    }

    private func nextBatch(of node: String, after sent: Int64, bytes: Int, cut: Int64? = nil) async throws -> OutboxBatch? {
        let limit = options.batch
        return try await store.read { snapshot in
            var records: [Record] = []
            var upto = sent
            var total = 0
            for version in try snapshot.outbox(of: node, after: sent, limit: limit) {
                let size = version.record.canonical.utf8.count + 1
                if !records.isEmpty && total + size > bytes { break }
                if !records.isEmpty, let cut, version.seq > cut { break }
                records.append(version.record)
                upto = version.seq
                total += size
            }
            guard !records.isEmpty else { return nil }
            return OutboxBatch(records: records, after: sent, upto: upto, head: try snapshot.head(at: upto))
        }
    }

    /// This store's checkpoints at the closes of the rounds the township's contests list closed;
    /// only a contest of this township with a closure is read whole (a township of a province
    /// holds a thousand contests).
    private static func closePoints(in snapshot: any StoreSnapshot, township: String) throws -> [Int64] {
        let store = try snapshot.identity().storeID
        return try snapshot.currentValues(kind: .contest)
            .filter { $0.value.data["closed"] != nil && $0.value.data["township"]?.stringValue == township }
            .compactMap { try? RecordRules.contest($0.value.data) }
            .flatMap { $0.closed.values.compactMap { $0[store] } }
    }

    /// Notes answers of the county in the township's store, in one transaction: the checkpoint the
    /// last of them reached, and the versions the county refused, which the township keeps visible
    /// to its clerks.
    private func note(_ answers: [(OutboxBatch, PushReceipt)]) async throws {
        let node = township.node
        let now = Date()
        // The county commits a store's pushes gap-free and in order, so the highest answered `upto`
        // is durable there together with everything before it.
        try await store.write { tx in
            let storeID = try tx.identity().storeID
            for (batch, receipt) in answers {
                try tx.advanceCheckpoint(Township.acked, to: receipt.upto)
                for refusal in receipt.refused {
                    let version = batch.records.last { $0.key == refusal.key }
                    try tx.holdAside(Refusal(
                        node: node, store: storeID, key: refusal.key, township: version?.township ?? node, reason: refusal.reason,
                        message: refusal.message, at: now.formatted(.iso8601), version: version?.canonical ?? "{}"
                    ))
                }
            }
            try tx.setCheckpoint(Township.syncedAt, to: Int64(now.timeIntervalSince1970 * 1000))
        }
        for (_, receipt) in answers {
            for refusal in receipt.refused {
                logger.warning("the coordinator refused \(refusal.key): \(refusal.message) [\(refusal.reason)]")
            }
        }
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
