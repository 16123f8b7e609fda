import Foundation
import GRDB
import SunshineModel

/// Queries over a store, usable inside a read snapshot or a write transaction.
public protocol StoreReading {
    var db: Database { get }
}

/// A read-only view of the store.
public struct StoreReader: StoreReading {
    public let db: Database
}

enum RecordText {
    private static let decoder = JSONDecoder()

    static func decode(_ text: String) throws -> Record {
        let json = try decoder.decode(JSONValue.self, from: Data(text.utf8))
        do {
            return try Record(json: json)
        } catch {
            throw StoreError("A stored record cannot be read back (\(error)); the database may be damaged.")
        }
    }

    static func seqs(_ text: String) -> [Int64] {
        text.split(separator: ",").compactMap { Int64($0) }
    }
}

extension StoreReading {
    /// Every version held for `key`, oldest first.
    public func history(of key: String) throws -> [StoredVersion] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, record, flag FROM version WHERE key = ? ORDER BY seq"), arguments: [key]).map { row in
            StoredVersion(seq: row["seq"], record: try RecordText.decode(row["record"]), flag: row["flag"])
        }
    }

    /// The current value and siblings of `key`, if it is held.
    public func current(of key: String) throws -> CurrentRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT siblings, value, quarantined FROM current WHERE key = ?", arguments: [key]) else {
            return nil
        }
        return try currentRecord(row)
    }

    /// Every current record of a kind.
    public func currentRecords(kind: RecordKind) throws -> [CurrentRecord] {
        try Row.fetchAll(db, sql: "SELECT siblings, value, quarantined FROM current WHERE kind = ? ORDER BY key", arguments: [kind.rawValue])
            .map(currentRecord)
    }

    /// The current merged values of a kind, without loading siblings.
    public func currentValues(kind: RecordKind) throws -> [(value: Record, quarantined: Bool)] {
        try Row.fetchAll(db, sql: "SELECT value, quarantined FROM current WHERE kind = ? ORDER BY key", arguments: [kind.rawValue]).map { row in
            (try RecordText.decode(row["value"]), row["quarantined"] as Bool)
        }
    }

    private func currentRecord(_ row: Row) throws -> CurrentRecord {
        let seqs = RecordText.seqs(row["siblings"])
        let siblings = try seqs.map { seq in
            try RecordText.decode(String.fetchOne(db, sql: "SELECT record FROM version WHERE seq = ?", arguments: [seq]) ?? "")
        }
        return CurrentRecord(value: try RecordText.decode(row["value"]), siblings: siblings, quarantined: row["quarantined"])
    }

    /// A named position (0 when never set).
    public func checkpoint(_ name: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM checkpoint WHERE name = ?", arguments: [name]) ?? 0
    }

    public func checkpoints(prefix: String) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, seq FROM checkpoint WHERE name LIKE ? || '%'", arguments: [prefix]) {
            let name: String = row["name"]
            result[String(name.dropFirst(prefix.count))] = row["seq"]
        }
        return result
    }

    /// The newest sequence number in the change log.
    public func latestSeq() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT max(seq) FROM version") ?? 0
    }

    /// Versions after `seq` in change-log order. With `township`, only those meant for it: its own
    /// scope and the county-wide kinds (DESIGN §3.5), and none it originated itself.
    public func versions(after seq: Int64, for township: String? = nil, limit: Int) throws -> [StoredVersion] {
        let rows: [Row]
        if let township {
            let countyWide = RecordKind.allCases.filter(\.isCountyWide).map { "'\($0.rawValue)'" }.joined(separator: ",")
            rows = try Row.fetchAll(db, sql: """
                SELECT seq, record, flag FROM version
                WHERE seq > ? AND (township = ? OR kind IN (\(countyWide))) AND origin <> ?
                ORDER BY seq LIMIT ?
                """, arguments: [seq, township, township, limit])
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT seq, record, flag FROM version WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
        }
        return try rows.map { StoredVersion(seq: $0["seq"], record: try RecordText.decode($0["record"]), flag: $0["flag"]) }
    }

    /// Versions `origin` wrote itself after `seq`, in order: an agent's outbox.
    public func outbox(of origin: String, after seq: Int64, limit: Int) throws -> [StoredVersion] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, record, flag FROM version WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?"), arguments: [origin, seq, limit]).map {
            StoredVersion(seq: $0["seq"], record: try RecordText.decode($0["record"]), flag: $0["flag"])
        }
    }

    public func outboxCount(of origin: String, after seq: Int64) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT count(*) FROM version WHERE origin = ? AND seq > ?", arguments: [origin, seq]) ?? 0
    }

    /// Current, not deleted records per township and kind.
    public func counts() throws -> [String: [RecordKind: Int]] {
        var result: [String: [RecordKind: Int]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT township, kind, count(*) AS n FROM current WHERE deleted = 0 GROUP BY township, kind") {
            guard let kind = RecordKind(rawValue: row["kind"]) else { continue }
            result[row["township"], default: [:]][kind] = row["n"]
        }
        return result
    }

    /// Every open conflict with its siblings.
    public func openConflicts() throws -> [OpenConflict] {
        try Row.fetchAll(db, sql: "SELECT key, reason FROM conflict ORDER BY opened_seq").compactMap { row in
            guard let current = try current(of: row["key"]) else { return nil }
            return OpenConflict(key: row["key"], kind: current.value.kind, township: current.value.township, reason: row["reason"], siblings: current.siblings, current: current.value)
        }
    }

    /// Current records held aside (ballots with a duplicated serial or after their round closed).
    public func quarantinedCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM current WHERE quarantined = 1") ?? 0
    }

    /// Open conflicts per township (scope), without loading their versions.
    public func openConflictCounts() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT township, count(*) AS n FROM conflict GROUP BY township") {
            result[row["township"]] = row["n"]
        }
        return result
    }

    public func openConflictCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM conflict") ?? 0
    }

    public func isRoundClosed(contest: String, round: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM closed_round WHERE contest = ? AND round = ?"), arguments: [contest, round]) ?? false
    }

    public func closedRounds() throws -> [(contest: String, round: String)] {
        try Row.fetchAll(db, sql: "SELECT contest, round FROM closed_round ORDER BY contest, round").map { ($0["contest"], $0["round"]) }
    }
}
