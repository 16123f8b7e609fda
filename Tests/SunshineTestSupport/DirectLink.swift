import SunshineCounty
import SunshineModel
import SunshineTownship

/// A township's ``CountyLink`` to a ``County`` in the same process: the real county core, called
/// the way the coordinator's responder calls it, without sockets. Pushes are applied one at a time
/// in the order they were sent, as the coordinator applies one connection's pushes.
public actor DirectLink: CountyLink {
    public let county: County
    public let township: String

    public init(county: County, township: String) {
        self.county = county
        self.township = township
    }

    public func push(_ batch: OutboxBatch) async throws -> PushReceipt {
        let outcome = try await county.push(PushBatch(records: batch.records, upto: batch.upto), from: township)
        return PushReceipt(
            upto: outcome.upto, accepted: outcome.accepted, duplicates: outcome.duplicates, conflicts: outcome.conflicts,
            refused: outcome.rejected.map { .init(key: $0.key, reason: $0.error.reason, message: $0.error.message) }
        )
    }

    public func pull(since: Int64, limit: Int) async throws -> PulledPage {
        let page = try await county.pull(since: since, limit: limit, for: township)
        return PulledPage(records: page.records, upto: page.upto, more: page.more)
    }
}
