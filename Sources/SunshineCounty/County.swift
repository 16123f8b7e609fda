import Foundation
import SunshineModel
import SunshineStore

/// The county's replication core over its store (DESIGN §3.3–3.7): what `push`, `pull` and the
/// operator methods do, in domain terms and without sockets. It takes decoded, validated records
/// and typed identities and answers with domain outcomes; the coordinator's RPC responder alone
/// turns those into frames.
public struct County: Sendable {
    public let store: any ReplicaStore
    public let presence: Presence

    public init(store: any ReplicaStore, presence: Presence = Presence()) {
        self.store = store
        self.presence = presence
    }

    /// Agents' durable positions are checkpoints named `agent:NODE`.
    static let checkpointPrefix = "agent:"
    static func checkpointName(_ node: String) -> String { checkpointPrefix + node }

    // MARK: Agents

    /// The highest change-log sequence number of `node` held durably.
    public func checkpoint(of node: String) async throws -> Int64 {
        try await store.read { try $0.checkpoint(Self.checkpointName(node)) }
    }

    /// Applies a batch from `agent` and its checkpoint in one transaction; answers after commit.
    public func push(_ batch: PushBatch, from agent: String) async throws -> PushOutcome {
        guard batch.entries.count <= PushBatch.maxRecords else {
            throw CountyError.invalid("A push carries at most \(PushBatch.maxRecords) records; send smaller batches.")
        }
        guard batch.upto >= 0 else { throw CountyError.invalid("upto must be a change-log sequence number (0 or more).") }
        return try await store.write { tx in
            var outcome = PushOutcome(upto: batch.upto)
            for entry in batch.entries {
                let record: Record
                switch entry {
                case .unreadable(let key, let error):
                    outcome.rejected.append(.init(key: key, error: error))
                    continue
                case .record(let valid):
                    record = valid
                }
                let held = try tx.current(of: record.key)?.heldClock ?? VersionVector()
                do throws(RecordError) {
                    try Authorization.checkPush(record, by: agent, held: held)
                } catch {
                    outcome.rejected.append(.init(key: record.key, error: error))
                    continue
                }
                let closed = try Self.isRoundClosed(tx, record)
                switch try tx.apply(record, flag: closed ? .roundClosed : nil) {
                case .duplicate:
                    outcome.duplicates += 1
                    continue
                case _ where closed:
                    outcome.rejected.append(.init(key: record.key, error: .roundClosed("the round is closed; the ballot is kept, quarantined and not counted")))
                case .replaces, .obsolete:
                    outcome.accepted += 1
                case .concurrent, .integrityConflict:
                    outcome.conflicts += 1
                }
                outcome.audience.add(record)
            }
            try tx.advanceCheckpoint(Self.checkpointName(agent), to: batch.upto)
            outcome.logUpto = try tx.latestSeq()
            return outcome
        }
    }

    /// Versions meant for `township` after `since`, in coordinator order.
    public func pull(since: Int64, limit requested: Int?, for township: String) async throws -> PullPage {
        guard since >= 0 else { throw CountyError.invalid("since must be a coordinator sequence number (0 or more).") }
        let limit = min(max(requested ?? PullPage.defaultLimit, 1), PullPage.maxLimit)
        return try await store.read { reader in
            let latest = try reader.latestSeq()
            let versions = try reader.changes(after: since, for: Routing.Reader(township: township), limit: limit)
            let more = versions.count == limit
            // When the page is full, the agent is at its last version; otherwise it has seen
            // everything up to the newest sequence number, including versions not meant for it.
            let upto = more ? versions.last!.seq : max(latest, since)
            return PullPage(records: versions.map(\.record), upto: upto, more: more)
        }
    }

    // MARK: Operators

    public func status() async throws -> CountyStatus {
        let presence = Dictionary(self.presence.all.map { ($0.node, $0) }, uniquingKeysWith: { first, _ in first })
        let (counts, checkpoints, conflicts, quarantined, seq) = try await store.read { reader in
            (
                try reader.counts(),
                try reader.checkpoints(prefix: Self.checkpointPrefix),
                try reader.openConflictCounts(),
                try reader.quarantinedCount(),
                try reader.latestSeq()
            )
        }
        let agents = Set(presence.values.filter { $0.role == .agent }.map(\.node))
            .union(checkpoints.keys).union(counts.keys.filter { $0 != RecordRules.countyScope })
        let townships = agents.sorted().map { node in
            CountyStatus.Township(
                node: node,
                online: presence[node]?.online ?? false,
                lastSeen: presence[node]?.lastSeen,
                checkpoint: checkpoints[node] ?? 0,
                reportedSeq: presence[node]?.reportedSeq,
                outbox: presence[node]?.reportedOutbox,
                ballots: counts[node]?[.ballot] ?? 0,
                findings: counts[node]?[.finding] ?? 0,
                conflicts: conflicts[node] ?? 0
            )
        }
        let sum = { (kind: RecordKind) in counts.values.reduce(0) { $0 + ($1[kind] ?? 0) } }
        return CountyStatus(
            townships: townships,
            totals: .init(
                townships: townships.count, online: townships.filter(\.online).count, ballots: sum(.ballot), findings: sum(.finding),
                contests: sum(.contest), openConflicts: conflicts.values.reduce(0, +), quarantined: quarantined, seq: seq
            )
        )
    }

    public func tally(contest: String? = nil, round: String? = nil) async throws -> [RoundTally] {
        let (contests, ballots, closed) = try await store.read { reader in
            (try reader.currentValues(kind: .contest).map(\.value), try reader.currentValues(kind: .ballot), try reader.closedRounds())
        }
        let closedKeys = Set(closed.map { Tally.roundKey(contest: $0.contest, round: $0.round) })
        return Tally.compute(
            contests: contests, ballots: ballots.map { ($0.value, $0.quarantined) }, closedRounds: closedKeys, contest: contest, round: round
        )
    }

    public func conflicts() async throws -> [OpenConflict] {
        try await store.read { try $0.openConflicts() }
    }

    /// Writes a version as the county: the join of what it holds, its own entry incremented.
    public func put(kind: RecordKind, key: String, data: JSONValue, deleted: Bool) async throws -> Written {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 3 else { throw CountyError.invalid("The key \"\(key)\" is not kind/scope/….") }
        return try await write(kind: kind, key: key, township: String(segments[1]), data: data, deleted: deleted)
    }

    /// Ends an open conflict with a version whose clock dominates every sibling.
    public func resolve(key: String, data: JSONValue) async throws -> Written {
        let current = try await store.read { try $0.current(of: key) }
        guard let current, current.inConflict else {
            throw CountyError.invalid("\(key) has no open conflict; use put to edit it.")
        }
        return try await write(kind: current.value.kind, key: key, township: current.value.township, data: data, deleted: false)
    }

    /// Closes a round; returns false when it was closed already.
    public func closeRound(contest: String, round: String) async throws -> Bool {
        let held = try await store.read { try $0.current(of: Contest.key(contest)) }
        guard let held, let definition = try? RecordRules.contest(held.value.data) else {
            throw CountyError.invalid("There is no contest \(contest); publish it with put first.")
        }
        guard definition.rounds.contains(round) else {
            throw CountyError.invalid("Contest \(contest) has no round \(round); its rounds are \(definition.rounds.joined(separator: ", ")).")
        }
        return try await store.write { try $0.closeRound(contest: contest, round: round) }
    }

    private func write(kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool) async throws -> Written {
        do {
            return try await store.write { tx in
                let record = try tx.write(kind: kind, key: key, township: township, data: data, deleted: deleted)
                return Written(record: record, audience: Audience([record]), logUpto: try tx.latestSeq())
            }
        } catch let error as RecordError {
            throw CountyError.invalid("The record was not written: \(error.message).")
        }
    }

    private static func isRoundClosed(_ tx: any StoreTransaction, _ record: Record) throws -> Bool {
        guard record.kind == .ballot, let ballot = try? RecordRules.ballot(record.data) else { return false }
        return try tx.isRoundClosed(contest: ballot.contest, round: ballot.round)
    }
}
