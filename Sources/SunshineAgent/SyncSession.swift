import Logging
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineWire

/// One connected stretch of an agent's life (DESIGN §3.5): resume from the coordinator's
/// checkpoint, push the outbox in order with a small window of pushes in flight, pull until
/// caught up and again whenever the coordinator says `changed`. Any failure ends the session;
/// the agent reconnects and starts over from what the coordinator durably holds.
struct SyncSession: Sendable {
    struct Options: Sendable {
        var batch = 200
        var window = 4
        var pullLimit = PullParams.defaultLimit
        /// How often to look for records a clerk wrote from another process.
        var outboxPoll: Duration = .milliseconds(200)
        /// A pull even without `changed`, in case a notification was lost with a connection.
        var pullFallback: Duration = .seconds(30)
    }

    let township: Township
    let connection: RPCConnection
    /// Yields when there may be something to pull: at the start, on each `changed`
    /// notification, and every `pullFallback` in case a notification was lost.
    let changed: AsyncStream<Void>
    let wake: AsyncStream<Void>.Continuation
    let options: Options
    let logger: Logger
    let events: (@Sendable (AgentService.Event) -> Void)?

    var store: ReplicaStore { township.store }

    func run(checkpoint: Int64) async throws {
        // The coordinator's number wins over ours: it may have been restored from a backup.
        try await store.write { try $0.setCheckpoint(Township.acked, to: checkpoint) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await push(after: checkpoint) }
            group.addTask { try await pull() }
            group.addTask {
                while true {
                    wake.yield()
                    try await Task.sleep(for: options.pullFallback)
                }
            }
            group.addTask {
                await connection.waitUntilClosed()
                throw RPCCallError.connectionClosed(reason: "the connection closed")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func push(after checkpoint: Int64) async throws {
        let node = township.node
        var sent = checkpoint
        try await withThrowingTaskGroup(of: PushResult.self) { group in
            var inFlight = 0
            while !Task.isCancelled {
                if inFlight < options.window {
                    let after = sent
                    let batch = try await store.read { try $0.outbox(of: node, after: after, limit: options.batch) }
                    if let last = batch.last {
                        sent = last.seq
                        let params = PushParams(records: batch.map(\.record.json), upto: last.seq)
                        group.addTask { try await connection.call(Method.push, params: params, returning: PushResult.self) }
                        inFlight += 1
                        continue
                    }
                }
                if inFlight > 0, let result = try await group.next() {
                    inFlight -= 1
                    try await acknowledge(result)
                    continue
                }
                try await Task.sleep(for: options.outboxPoll)
            }
        }
    }

    private func acknowledge(_ result: PushResult) async throws {
        // Pushes commit in order at the coordinator, so the highest answered `upto` is durable
        // there together with everything before it.
        try await store.write { try $0.advanceCheckpoint(Township.acked, to: result.upto) }
        for rejection in result.rejected {
            logger.warning("the coordinator refused \(rejection.key): \(rejection.message) [\(rejection.reason)]")
        }
        events?(.pushed(upto: result.upto, accepted: result.accepted, duplicates: result.duplicates, conflicts: result.conflicts, rejected: result.rejected.count))
    }

    private func pull() async throws {
        // Only this loop advances `pulled`, so it is read once and then followed here.
        var since = try await store.read { try $0.checkpoint(Township.pulled) }
        for await _ in changed {
            var more = true
            while more {
                let page = try await connection.call(Method.pull, params: PullParams(since: since, limit: options.pullLimit), returning: PullResult.self)
                let records = page.records.compactMap { json -> Record? in
                    do throws(RecordError) {
                        return try Record(json: json)
                    } catch {
                        logger.error("ignored a record from the coordinator that cannot be read: \(error)")
                        return nil
                    }
                }
                try await store.write { tx in
                    for record in records { try tx.apply(record) }
                    try tx.setCheckpoint(Township.pulled, to: page.upto)
                }
                if !records.isEmpty { events?(.pulled(count: records.count, upto: page.upto)) }
                since = page.upto
                more = page.more
            }
        }
    }
}
