import SunshineModel
import SunshineRPC
import SunshineTownship
import SunshineWire

/// The township's ``CountyLink`` over its RPC connection: domain batches and pages converted
/// explicitly to and from the wire's `push` and `pull`.
struct RPCCountyLink: CountyLink {
    let connection: RPCConnection

    /// Bytes of a `push` frame left for its envelope: the JSON-RPC members, `after`, `upto`,
    /// `head`, and the difference between a record's canonical form and its wire encoding.
    static let batchOverhead = 16 * 1_024

    func send(_ batch: OutboxBatch) async throws -> PendingReceipt {
        let params = PushParams(records: batch.records.map(\.json), after: batch.after, upto: batch.upto, head: batch.head)
        let pending = try await connection.start(Method.push, params: params, returning: PushResult.self)
        return PendingReceipt {
            let result = try await pending.result()
            return PushReceipt(
                upto: result.upto, accepted: result.accepted, duplicates: result.duplicates, conflicts: result.conflicts,
                refused: result.rejected.map { .init(key: $0.key, reason: $0.reason, message: $0.message) }
            )
        }
    }

    func pull(since: Int64, limit: Int) async throws -> PulledPage {
        let result = try await connection.call(Method.pull, params: PullParams(since: since, limit: limit), returning: PullResult.self)
        var page = PulledPage(records: [], upto: result.upto, head: result.head, more: result.more)
        for json in result.records {
            do throws(RecordError) {
                page.records.append(try Record(json: json))
            } catch {
                page.unreadable.append(error.description)
            }
        }
        return page
    }
}
