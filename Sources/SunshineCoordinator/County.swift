import Foundation
import SunshineModel
import SunshineStore
import SunshineWire

/// The coordinator's replication logic over its store, without sockets: what `push`, `pull` and
/// the operator methods do (DESIGN §3.3–3.7). The RPC responder only maps methods and roles to it.
public struct County: Sendable {
    public let store: ReplicaStore
    public let sessions: NodeSessions

    public init(store: ReplicaStore, sessions: NodeSessions) {
        self.store = store
        self.sessions = sessions
    }

    /// Agents' durable positions are checkpoints named `agent:NODE`.
    static let checkpointPrefix = "agent:"
    static func checkpointName(_ node: String) -> String { checkpointPrefix + node }

    /// Townships that should hear `changed` after these versions were stored: a township's own
    /// scope goes to it; county-wide kinds go to every township; never back to the writer.
    public struct Fanout: Sendable, Equatable {
        public var townships: Set<String> = []
        public var everyone = false
        public var except: Set<String> = []

        mutating func add(_ record: Record) {
            if record.kind.isCountyWide { everyone = true } else { townships.insert(record.township) }
            except.insert(record.origin)
        }

        public func includes(_ node: String) -> Bool {
            (everyone || townships.contains(node)) && !except.contains(node)
        }

        public var isEmpty: Bool { !everyone && townships.isEmpty }
    }

    // MARK: Agents

    /// The highest change-log sequence number of `node` held durably.
    public func checkpoint(of node: String) async throws -> Int64 {
        try await store.read { try $0.checkpoint(Self.checkpointName(node)) }
    }

    /// Applies a batch from `agent` and its checkpoint in one transaction; answers after commit.
    public func push(_ params: PushParams, from agent: String) async throws -> (result: PushResult, fanout: Fanout) {
        guard params.records.count <= PushParams.maxRecords else {
            throw RPCError.invalidParams("A push carries at most \(PushParams.maxRecords) records; send smaller batches.")
        }
        guard params.upto >= 0 else { throw RPCError.invalidParams("upto must be a change-log sequence number (0 or more).") }
        return try await store.write { tx in
            var result = PushResult(upto: params.upto)
            var fanout = Fanout()
            for json in params.records {
                let key = json["key"]?.stringValue ?? "(no key)"
                func reject(_ error: RecordError) {
                    result.rejected.append(.init(key: key, reason: error.reason, message: error.message))
                }
                let record: Record
                do throws(RecordError) {
                    record = try Record(json: json)
                    try RecordRules.validate(record)
                } catch {
                    reject(error)
                    continue
                }
                let history = try tx.history(of: record.key)
                do throws(RecordError) {
                    try Authorization.checkPush(record, by: agent, held: VersionVector.join(history.map(\.record.clock)))
                } catch {
                    reject(error)
                    continue
                }
                let closed = try Self.isRoundClosed(tx, record)
                switch try tx.apply(record, flag: closed ? StoreTransaction.roundClosedFlag : nil, history: history) {
                case .duplicate:
                    result.duplicates += 1
                    continue
                case _ where closed:
                    reject(.roundClosed("the round is closed; the ballot is kept, quarantined and not counted"))
                case .replaces, .obsolete:
                    result.accepted += 1
                case .concurrent, .integrityConflict:
                    result.conflicts += 1
                }
                fanout.add(record)
            }
            try tx.advanceCheckpoint(Self.checkpointName(agent), to: params.upto)
            return (result, fanout)
        }
    }

    /// Versions meant for `township` after `since`, in coordinator order.
    public func pull(_ params: PullParams, for township: String) async throws -> PullResult {
        guard params.since >= 0 else { throw RPCError.invalidParams("since must be a coordinator sequence number (0 or more).") }
        let limit = min(max(params.limit ?? PullParams.defaultLimit, 1), PullParams.maxLimit)
        return try await store.read { reader in
            let latest = try reader.latestSeq()
            let versions = try reader.versions(after: params.since, for: township, limit: limit)
            let more = versions.count == limit
            // When the page is full, the agent is at its last version; otherwise it has seen
            // everything up to the newest sequence number, including versions not meant for it.
            let upto = more ? versions.last!.seq : max(latest, params.since)
            return PullResult(records: versions.map(\.record.json), upto: upto, more: more)
        }
    }

    // MARK: Operators

    public func status() async throws -> StatusResult {
        let presence = Dictionary(uniqueKeysWithValues: sessions.all.map { ($0.node, $0) })
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
            StatusResult.Township(
                node: node,
                online: presence[node]?.online ?? false,
                lastSeen: presence[node].map { $0.lastSeen.formatted(.iso8601) },
                checkpoint: checkpoints[node] ?? 0,
                reportedSeq: presence[node]?.reportedSeq,
                outbox: presence[node]?.reportedOutbox,
                ballots: counts[node]?[.ballot] ?? 0,
                findings: counts[node]?[.finding] ?? 0,
                conflicts: conflicts[node] ?? 0
            )
        }
        let sum = { (kind: RecordKind) in counts.values.reduce(0) { $0 + ($1[kind] ?? 0) } }
        return StatusResult(
            townships: townships,
            totals: .init(
                townships: townships.count, online: townships.filter(\.online).count, ballots: sum(.ballot), findings: sum(.finding),
                contests: sum(.contest), openConflicts: conflicts.values.reduce(0, +), quarantined: quarantined, seq: seq
            )
        )
    }

    public func tally(_ params: TallyParams) async throws -> TallyResult {
        let (contests, ballots, closed) = try await store.read { reader in
            (try reader.currentValues(kind: .contest).map(\.value), try reader.currentValues(kind: .ballot), try reader.closedRounds())
        }
        let closedKeys = Set(closed.map { Tally.roundKey(contest: $0.contest, round: $0.round) })
        return TallyResult(Tally.compute(contests: contests, ballots: ballots, closedRounds: closedKeys, contest: params.contest, round: params.round))
    }

    public func conflicts() async throws -> ConflictsResult {
        let open = try await store.read { try $0.openConflicts() }
        return ConflictsResult(conflicts: open.map {
            .init(key: $0.key, kind: $0.kind.rawValue, township: $0.township, reason: $0.reason, current: $0.current.json, siblings: $0.siblings.map(\.json))
        })
    }

    /// Writes a version as the county: the join of what it holds, its own entry incremented.
    public func put(_ params: PutParams) async throws -> (record: Record, fanout: Fanout) {
        guard let kind = RecordKind(rawValue: params.kind) else {
            throw RPCError.invalidParams("kind \"\(params.kind)\" is not one of ballot, finding, contest.")
        }
        let segments = params.key.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 3 else { throw RPCError.invalidParams("The key \"\(params.key)\" is not kind/scope/….") }
        return try await write(kind: kind, key: params.key, township: String(segments[1]), data: params.data, deleted: params.deleted ?? false)
    }

    /// Ends an open conflict with a version whose clock dominates every sibling.
    public func resolve(_ params: ResolveParams) async throws -> (record: Record, fanout: Fanout) {
        let current = try await store.read { try $0.current(of: params.key) }
        guard let current, current.inConflict else {
            throw RPCError.invalidParams("\(params.key) has no open conflict; use put to edit it.")
        }
        return try await write(kind: current.value.kind, key: params.key, township: current.value.township, data: params.data, deleted: false)
    }

    public func closeRound(_ params: CloseRoundParams) async throws -> CloseRoundResult {
        let contest = try await store.read { try $0.current(of: Contest.key(params.contest)) }
        guard let contest, let definition = try? RecordRules.contest(contest.value.data) else {
            throw RPCError.invalidParams("There is no contest \(params.contest); publish it with put first.")
        }
        guard definition.rounds.contains(params.round) else {
            throw RPCError.invalidParams("Contest \(params.contest) has no round \(params.round); its rounds are \(definition.rounds.joined(separator: ", ")).")
        }
        let newlyClosed = try await store.write { try $0.closeRound(contest: params.contest, round: params.round) }
        return CloseRoundResult(contest: params.contest, round: params.round, newlyClosed: newlyClosed)
    }

    private func write(kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool) async throws -> (record: Record, fanout: Fanout) {
        do {
            let record = try await store.write { tx in
                try tx.write(kind: kind, key: key, township: township, data: data, deleted: deleted)
            }
            var fanout = Fanout()
            fanout.add(record)
            return (record, fanout)
        } catch let error as RecordError {
            throw RPCError.invalidParams("The record was not written: \(error.message).")
        }
    }

    private static func isRoundClosed(_ tx: StoreTransaction, _ record: Record) throws -> Bool {
        guard record.kind == .ballot, let ballot = try? RecordRules.ballot(record.data) else { return false }
        return try tx.isRoundClosed(contest: ballot.contest, round: ballot.round)
    }
}
