import Foundation
import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineWire

// The explicit conversions between the wire's Codable types and the county's domain types.

extension PushBatch {
    init(_ params: PushParams) {
        self.init(entries: params.records.map(Entry.init(json:)), after: params.after, upto: params.upto, head: params.head)
    }
}

extension PushResult {
    init(_ outcome: PushOutcome) {
        self.init(
            upto: outcome.upto, accepted: outcome.accepted, duplicates: outcome.duplicates, conflicts: outcome.conflicts,
            rejected: outcome.rejected.map { Rejection(key: $0.key, reason: $0.error.reason, message: $0.error.message) }
        )
    }
}

extension PullResult {
    init(_ page: PullPage) {
        self.init(records: page.records.map(\.json), upto: page.upto, head: page.head, more: page.more)
    }
}

extension StatusResult {
    init(_ status: CountyStatus) {
        self.init(
            townships: status.townships.map { row in
                Township(
                    node: row.node, online: row.online, lastSeen: row.lastSeen?.formatted(.iso8601), store: row.store, checkpoint: row.checkpoint,
                    reportedSeq: row.reportedSeq, outbox: row.outbox, ballots: row.ballots, findings: row.findings, conflicts: row.conflicts,
                    rejected: row.rejected,
                    openFindings: OpenFindings(
                        low: row.openFindings[.low] ?? 0, medium: row.openFindings[.medium] ?? 0, high: row.openFindings[.high] ?? 0,
                        critical: row.openFindings[.critical] ?? 0
                    )
                )
            },
            totals: Totals(
                townships: status.totals.townships, online: status.totals.online, ballots: status.totals.ballots,
                findings: status.totals.findings, contests: status.totals.contests, openConflicts: status.totals.openConflicts,
                quarantined: status.totals.quarantined, rejected: status.totals.rejected, seq: status.totals.seq,
                lastChange: status.totals.lastChange?.formatted(.iso8601)
            ),
            events: status.events.map { event in
                Event(
                    id: event.id, at: event.at.formatted(.iso8601), kind: event.kind.rawValue, township: event.township, key: event.key,
                    message: event.message
                )
            }
        )
    }
}

extension ConflictsResult {
    init(_ conflicts: [OpenConflict], more: Bool) {
        self.init(
            conflicts: conflicts.map {
                Conflict(key: $0.key, kind: $0.kind.rawValue, township: $0.township, reason: $0.reason.rawValue, current: $0.current.json, siblings: $0.siblings.map(\.json))
            }, more: more)
    }
}

extension RejectedResult {
    init(_ refusals: [Refusal], more: Bool) {
        self.init(more: more, rejected: refusals.map { refusal in
            Entry(
                id: refusal.id, key: refusal.key, township: refusal.township, sender: refusal.node, store: refusal.store, reason: refusal.reason,
                message: refusal.message, at: refusal.at, version: (try? JSONParser.parse(refusal.version)) ?? .string(refusal.version)
            )
        })
    }
}
