import Logging
import SunshineModel
import SunshineStore

/// One connected stretch of a township's sync (DESIGN §3.5): resume from the county's checkpoint,
/// push the outbox in order with a small window of pushes awaiting answers, and pull until caught
/// up whenever told there may be something new. Any failure ends the stretch; the agent
/// reconnects and starts over from what the county durably holds.
///
/// It never sleeps: it waits on the signals it is given — `outbox` when the township may have
/// written something, `pull` when the county may hold something new — so a test drives it step by
/// step, and the agent decides what wakes it.
public struct TownshipSync: Sendable {
    public struct Options: Sendable {
        /// Records per push, and pushes awaiting their answer at once.
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
    /// - Parameter checkpoint: the county's checkpoint for this township, from `hello`; it wins
    ///   over the township's own memory, since the county may have been restored from a backup.
    public func run(checkpoint: Int64, outbox: AsyncStream<Void>, pull: AsyncStream<Void>) async throws {
        try await store.write { try $0.setCheckpoint(Township.acked, to: checkpoint) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pushOutbox(after: checkpoint, signals: outbox) }
            group.addTask { try await pullWhenSignalled(pull) }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Pushes the outbox in order, `window` batches at a time, and waits for a signal when it is empty.
    func pushOutbox(after checkpoint: Int64, signals: AsyncStream<Void>) async throws {
        let node = township.node
        let options = self.options
        var sent = checkpoint
        var wakes = signals.makeAsyncIterator()
        try await withThrowingTaskGroup(of: PushReceipt.self) { group in
            var inFlight = 0
            while !Task.isCancelled {
                while inFlight < options.window {
                    let after = sent
                    let versions = try await store.read { try $0.outbox(of: node, after: after, limit: options.batch) }
                    guard let last = versions.last else { break }
                    sent = last.seq
                    let batch = OutboxBatch(records: versions.map(\.record), upto: last.seq)
                    group.addTask { try await link.push(batch) }
                    inFlight += 1
                }
                if inFlight > 0, let receipt = try await group.next() {
                    inFlight -= 1
                    try await acknowledge(receipt)
                } else if await wakes.next() == nil {
                    return
                }
            }
        }
    }

    private func acknowledge(_ receipt: PushReceipt) async throws {
        // Pushes commit in order at the county, so the highest answered `upto` is durable there
        // together with everything before it.
        try await store.write { try $0.advanceCheckpoint(Township.acked, to: receipt.upto) }
        for refusal in receipt.refused {
            logger.warning("the coordinator refused \(refusal.key): \(refusal.message) [\(refusal.reason)]")
        }
        events?(.pushed(upto: receipt.upto, accepted: receipt.accepted, duplicates: receipt.duplicates, conflicts: receipt.conflicts, rejected: receipt.refused.count))
    }

    /// Pulls until caught up on every signal.
    func pullWhenSignalled(_ signals: AsyncStream<Void>) async throws {
        // Only this loop advances `pulled`, so it is read once and then followed here.
        var since = try await store.read { try $0.checkpoint(Township.pulled) }
        for await _ in signals {
            var more = true
            while more {
                let page = try await link.pull(since: since, limit: options.pullLimit)
                for problem in page.unreadable {
                    logger.error("ignored a record from the coordinator that cannot be read: \(problem)")
                }
                try await store.write { tx in
                    for record in page.records { try tx.apply(record) }
                    try tx.setCheckpoint(Township.pulled, to: page.upto)
                }
                if !page.records.isEmpty { events?(.pulled(count: page.records.count, upto: page.upto)) }
                since = page.upto
                more = page.more
            }
        }
    }
}
