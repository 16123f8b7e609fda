import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineTownship

/// A township's ``CountyLink`` to a ``County`` in the same process: the real county core, called
/// the way the coordinator's responder calls it, without sockets. Pushes are applied one at a time
/// in the order they were sent, as the coordinator applies one connection's pushes.
public actor DirectLink: CountyLink {
    public let county: County
    public let agent: AgentSession
    /// What one frame may carry, as the coordinator's default `maxFrame` less the envelope.
    public static let frameBytes = 1_048_576 - 16_384
    private var last: Task<PushReceipt, any Error>?

    public init(county: County, agent: AgentSession) {
        self.county = county
        self.agent = agent
    }

    /// Says hello for `township`'s store, as the agent does on connecting.
    public static func connect(_ township: Township, to county: County) async throws -> (link: DirectLink, start: SessionStart) {
        let (identity, pulled) = try await township.store.read { (try $0.identity(), try $0.pullPosition()) }
        let agent = AgentSession(node: township.node, store: identity.storeID)
        let welcome = try await county.hello(agent, pulled: pulled)
        let start = SessionStart(
            checkpoint: welcome.checkpoint, checkpointHead: welcome.checkpointHead, pullFrom: welcome.pullFrom, batchBytes: frameBytes
        )
        return (DirectLink(county: county, agent: agent), start)
    }

    public func send(_ batch: OutboxBatch) -> PendingReceipt {
        let previous = last
        let county = self.county
        let agent = self.agent
        let task = Task {
            _ = await previous?.result
            return Self.receipt(try await county.push(PushBatch(records: batch.records, after: batch.after, upto: batch.upto, head: batch.head), from: agent))
        }
        last = task
        return PendingReceipt { try await task.value }
    }

    public func pull(since: Int64, limit: Int) async throws -> PulledPage {
        let page = try await county.pull(since: since, limit: limit, maxBytes: Self.frameBytes, for: agent.reader)
        return PulledPage(records: page.records, upto: page.upto, head: page.head, more: page.more)
    }

    static func receipt(_ outcome: PushOutcome) -> PushReceipt {
        PushReceipt(
            upto: outcome.upto, accepted: outcome.accepted, duplicates: outcome.duplicates, conflicts: outcome.conflicts,
            refused: outcome.rejected.map { .init(key: $0.key, reason: $0.error.reason, message: $0.error.message) }
        )
    }
}
