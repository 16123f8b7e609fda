import Foundation
import GRDB
import SunshineModel

/// Operations inside one write transaction: everything done through one transaction commits
/// together or not at all.
public struct StoreTransaction: StoreReading {
    public let db: Database
    /// The node this store belongs to.
    public let node: String

    /// The flag of a ballot that arrived after its round closed: kept, quarantined, not counted.
    public static let roundClosedFlag = "round_closed"

    /// Applies one version by DESIGN §3.6: a duplicate changes nothing; anything else is added to
    /// history, and the current siblings, merged value and conflict state follow.
    ///
    /// `history` is every version held for the key, when the caller has already read it.
    @discardableResult
    public func apply(_ record: Record, flag: String? = nil, history known: [StoredVersion]? = nil) throws -> ApplyDecision {
        let history = try known ?? history(of: record.key)
        let siblingSeqs = try String.fetchOne(
            db.cachedStatement(sql: "SELECT siblings FROM current WHERE key = ?"), arguments: [record.key]
        ).map(RecordText.seqs) ?? []
        let siblings = history.filter { siblingSeqs.contains($0.seq) }
        let canonical = record.canonical
        let decision = Replication.decide(record, canonical: canonical, history: history.map(\.record), siblings: siblings.map(\.record))
        if decision == .duplicate { return decision }

        try db.cachedStatement(sql: "INSERT INTO version (key, kind, township, origin, clock, record, flag) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [record.key, record.kind.rawValue, record.township, record.origin, record.clock.description, canonical, flag])
        let stored = StoredVersion(seq: db.lastInsertedRowID, record: record, flag: flag)
        if decision == .obsolete { return decision }

        let next = Replication.siblings(after: decision, incoming: stored, siblings: siblings, clock: \.record.clock)
        guard let merged = Merge.current(of: next.map(\.record)) else { return decision }
        let quarantined = (record.kind == .ballot && next.count > 1) || next.contains { $0.flag == Self.roundClosedFlag }
        try db.cachedStatement(sql: """
            INSERT INTO current (key, kind, township, siblings, value, deleted, quarantined, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET siblings = excluded.siblings, value = excluded.value, deleted = excluded.deleted,
                quarantined = excluded.quarantined, seq = excluded.seq
            """).execute(arguments: [
                record.key, record.kind.rawValue, record.township, next.map { String($0.seq) }.joined(separator: ","),
                next.count == 1 ? canonical : merged.canonical, merged.deleted, quarantined, stored.seq,
            ])
        if next.count > 1 {
            try db.execute(
                sql: """
                    INSERT INTO conflict (key, kind, township, reason, opened_seq) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET reason = CASE WHEN conflict.reason = 'integrity' THEN 'integrity' ELSE excluded.reason END
                    """,
                arguments: [record.key, record.kind.rawValue, record.township, decision == .integrityConflict ? "integrity" : "concurrent", stored.seq]
            )
        } else {
            try db.cachedStatement(sql: "DELETE FROM conflict WHERE key = ?").execute(arguments: [record.key])
        }
        return decision
    }

    /// Writes a new version as this store's node: its clock dominates every version held for the
    /// key (DESIGN §3.6), so it replaces them all — and so closes any conflict on the key.
    @discardableResult
    public func write(kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool = false, at date: Date = Date()) throws -> Record {
        let history = try history(of: key)
        let record = Record(
            key: key, kind: kind, township: township, clock: Replication.nextClock(for: node, over: history.map(\.record)), origin: node,
            at: date.formatted(.iso8601), deleted: deleted, data: data
        )
        try RecordRules.validate(record)
        try apply(record, history: history)
        return record
    }

    /// Moves a named position forward to `seq`; never backwards (an answer to an earlier
    /// request arriving late changes nothing).
    public func advanceCheckpoint(_ name: String, to seq: Int64) throws {
        try db.execute(
            sql: "INSERT INTO checkpoint (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq)",
            arguments: [name, seq]
        )
    }

    /// Sets a named position, forwards or backwards.
    public func setCheckpoint(_ name: String, to seq: Int64) throws {
        try db.execute(
            sql: "INSERT INTO checkpoint (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
            arguments: [name, seq]
        )
    }

    /// Closes a round; returns false if it was closed already.
    public func closeRound(contest: String, round: String) throws -> Bool {
        guard try !isRoundClosed(contest: contest, round: round) else { return false }
        try db.execute(sql: "INSERT INTO closed_round (contest, round, closed_seq) VALUES (?, ?, ?)", arguments: [contest, round, try latestSeq()])
        return true
    }
}
