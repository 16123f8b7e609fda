import Foundation
import GRDB
import SunshineModel
import Synchronization

/// The SQL behind ``StoreSnapshot``, shared by read snapshots and write transactions.
protocol SQLiteQueries: StoreSnapshot {
    var db: Database { get }
    /// Counts the stored records read back through this store.
    var decoded: DecodeCounter { get }
}

struct SQLiteSnapshot: SQLiteQueries {
    let db: Database
    let decoded: DecodeCounter
}

/// How many stored records a store has read back: what a test counts to show that the apply path
/// reads a key's siblings, never its history.
final class DecodeCounter: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func decode(_ text: String) throws -> SunshineModel.Record {
        count.add(1, ordering: .relaxed)
        return try RecordText.decode(text)
    }
}

/// Records are stored as their canonical JSON text and read back through one parser.
enum RecordText {
    static func decode(_ text: String) throws -> SunshineModel.Record {
        do {
            return try Record(storedCanonical: text)
        } catch {
            throw StoreError("A stored record cannot be read back (\(error)); the database may be damaged.", reason: .damaged)
        }
    }

    static func seqs(_ text: String) -> [Int64] {
        text.split(separator: ",").compactMap { Int64($0) }
    }
}

/// The statements applying a version runs, in one place so a test can check that each finds its
/// rows by an index: applying a version costs the same however long its key's history is.
enum ApplyPathSQL {
    static let keyState = """
        SELECT current.siblings, current.value, current.quarantined, conflict.reason, conflict.opened_seq
        FROM current LEFT JOIN conflict ON conflict.key = current.key WHERE current.key = ?
        """
    static let version = "SELECT seq, record, flag, source FROM version WHERE seq = ?"
    static let sameClock = "SELECT record FROM version WHERE key = ? AND clock = ?"
    static let lastHead = "SELECT head FROM version WHERE seq = (SELECT max(seq) FROM version)"
    static let append = """
        INSERT INTO version (key, kind, township, origin, clock, record, flag, source, head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let saveCurrent = """
        INSERT INTO current (key, kind, township, siblings, value, deleted, quarantined, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET siblings = excluded.siblings, value = excluded.value, deleted = excluded.deleted,
            quarantined = excluded.quarantined, seq = excluded.seq
        """
    static let saveConflict = """
        INSERT INTO conflict (key, kind, township, reason, opened_seq) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET reason = excluded.reason
        """
    static let closeConflict = "DELETE FROM conflict WHERE key = ?"
    static let roundClosed = "SELECT 1 FROM closed_round WHERE contest = ? AND round = ?"

    /// Every statement above with its number of parameters.
    static let all: [(sql: String, parameters: Int)] = [
        (keyState, 1), (version, 1), (sameClock, 2), (lastHead, 0), (append, 9), (saveCurrent, 8), (saveConflict, 5), (closeConflict, 1),
        (roundClosed, 2),
    ]
}

/// Where one write transaction's appends have got to — the log's head and the last sequence
/// number — and the store's identity, each read once a transaction rather than once a version
/// (an import of 100,000 rows is one transaction).
final class WriteCursor {
    var head: [UInt8]?
    var lastSeq: Int64?
    var identity: StoreIdentity?
}

/// The changes of one write transaction to the per-township counts, written once when its body
/// ends: a batch of a thousand ballots updates one row, not the same row a thousand times.
final class CountDeltas {
    struct Scope: Hashable {
        var township: String
        var kind: RecordKind
    }

    var pending: [Scope: Int] = [:]
}

/// What `current.value` holds: the merged value's canonical JSON — or, for a key of one sibling
/// whose value is that sibling (nearly every key), nothing, as the version is in history already
/// (`current.seq`): a ballot is written once, not twice. Rows from before keep their copy.
enum CurrentText {
    static let sameAsSibling = ""

    static func value(of state: KeyState) -> String {
        if state.siblings.count == 1, CanonicalJSON.same(state.siblings[0].record.canonical, state.value.canonical) { return sameAsSibling }
        return state.value.canonical
    }
}

/// The records of one kind as a range of `current`'s primary key: every key is `kind/…`
/// (``RecordRules``), and `0` is the byte after `/`, so the keys of a kind lie strictly between
/// `kind/` and `kind0` — no index on `kind` is needed (schema v4).
enum KindRange {
    static func arguments(_ kind: RecordKind) -> StatementArguments {
        [kind.rawValue + "/", kind.rawValue + "0"]
    }
}

/// A ballot group's choices as one text column, in canonical JSON, and back.
enum BallotGroupText {
    static func choices(_ choices: [String]) -> String {
        CanonicalJSON.string(.array(choices.map(JSONValue.string)))
    }

    static func choices(_ text: String) -> [String] {
        (try? JSONParser.parse(text))?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// Names in the `meta` table.
enum Meta {
    static let storeID = "store_id"
    static let actor = "actor"
    static let pulledUpto = "pulled_upto"
    static let pulledHead = "pulled_head"
}

extension SQLiteQueries {
    private static var versionColumns: String { "seq, record, flag, source" }

    func storedVersion(_ row: Row) throws -> StoredVersion {
        StoredVersion(
            seq: row["seq"], record: try decoded.decode(row["record"]), flag: (row["flag"] as String?).flatMap(VersionFlag.init),
            source: row["source"]
        )
    }

    func meta(_ name: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE name = ?"), arguments: [name])
    }

    func identity() throws -> StoreIdentity {
        guard let storeID = try meta(Meta.storeID), let actor = try meta(Meta.actor) else {
            throw StoreError("The store has no identity; the database may be damaged.", reason: .damaged)
        }
        return StoreIdentity(storeID: storeID, actor: actor)
    }

    func history(of key: String) throws -> [StoredVersion] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.versionColumns) FROM version WHERE key = ? ORDER BY seq"), arguments: [key])
            .map(storedVersion)
    }

    func holds(_ record: SunshineModel.Record) throws -> Bool {
        let canonical = record.canonical
        return try String.fetchAll(db.cachedStatement(sql: ApplyPathSQL.sameClock), arguments: [record.key, record.clock.description])
            .contains { CanonicalJSON.same($0, canonical) }
    }

    /// The key's state from its `current` and `conflict` rows and its siblings' versions: never
    /// its whole history, so applying a version costs the same however often the key was edited.
    func keyState(of key: String) throws -> KeyState? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: ApplyPathSQL.keyState), arguments: [key]) else { return nil }
        return try keyState(row)
    }

    private func keyState(_ row: Row) throws -> KeyState {
        let siblings = try RecordText.seqs(row["siblings"]).map { seq in
            guard let version = try Row.fetchOne(db.cachedStatement(sql: ApplyPathSQL.version), arguments: [seq]) else {
                throw StoreError("A current version (change \(seq)) is missing from history; the database may be damaged.", reason: .damaged)
            }
            return try storedVersion(version)
        }
        let text: String = row["value"]
        let value = try text == CurrentText.sameAsSibling ? siblings.first.map(\.record) ?? decoded.decode(text) : decoded.decode(text)
        return KeyState(
            siblings: siblings, value: value, quarantined: row["quarantined"],
            conflict: (row["reason"] as String?).flatMap(ConflictReason.init), conflictOpenedAt: row["opened_seq"]
        )
    }

    func current(of key: String) throws -> CurrentRecord? {
        try keyState(of: key).map(CurrentRecord.init)
    }

    func currentRecords(kind: RecordKind) throws -> [CurrentRecord] {
        try Row.fetchAll(db, sql: """
            SELECT current.siblings, current.value, current.quarantined, conflict.reason, conflict.opened_seq
            FROM current LEFT JOIN conflict ON conflict.key = current.key WHERE current.key > ? AND current.key < ? ORDER BY current.key
            """, arguments: KindRange.arguments(kind))
            .map { CurrentRecord(try keyState($0)) }
    }

    func currentValues(kind: RecordKind) throws -> [CurrentValue] {
        try Row.fetchAll(db, sql: """
            SELECT CASE current.value WHEN ? THEN version.record ELSE current.value END AS value, current.quarantined
            FROM current LEFT JOIN version ON version.seq = current.seq WHERE current.key > ? AND current.key < ? ORDER BY current.key
            """, arguments: [CurrentText.sameAsSibling] + KindRange.arguments(kind)).map { row in
            CurrentValue(value: try decoded.decode(row["value"]), quarantined: row["quarantined"])
        }
    }

    func latestSeq() throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(seq) FROM version")) ?? 0
    }

    func head(at seq: Int64) throws -> String? {
        if seq == 0 { return LogChain.origin }
        guard let bytes = try Data.fetchOne(db.cachedStatement(sql: "SELECT head FROM version WHERE seq = ?"), arguments: [seq]) else {
            return nil
        }
        return LogChain.hex(Array(bytes))
    }

    func changes(after seq: Int64, for reader: Routing.Reader?, limit: Int) throws -> [StoredVersion] {
        let rows: [Row]
        if let reader {
            // The routing rule (SunshineModel.Routing) as SQL: its scope, or a county-wide kind,
            // and not what the reading store sent itself.
            let countyWide = Routing.countyWideKinds.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")
            rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(Self.versionColumns) FROM version
                WHERE seq > ? AND (township = ? OR kind IN (\(countyWide))) AND (source IS NULL OR source <> ?)
                ORDER BY seq LIMIT ?
                """), arguments: [seq, reader.township, reader.store, limit])
        } else {
            rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.versionColumns) FROM version WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [seq, limit]
            )
        }
        return try rows.map(storedVersion)
    }

    func outbox(of origin: String, after seq: Int64, limit: Int) throws -> [StoredVersion] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT \(Self.versionColumns) FROM version WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?"),
            arguments: [origin, seq, limit]
        ).map(storedVersion)
    }

    func outboxCount(of origin: String, after seq: Int64) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM version WHERE origin = ? AND seq > ?"), arguments: [origin, seq]) ?? 0
    }

    func checkpoint(_ name: String) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT seq FROM checkpoint WHERE name = ?"), arguments: [name]) ?? 0
    }

    func checkpoints(prefix: String) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, seq FROM checkpoint WHERE substr(name, 1, length(?)) = ?", arguments: [prefix, prefix]) {
            let name: String = row["name"]
            result[String(name.dropFirst(prefix.count))] = row["seq"]
        }
        return result
    }

    func pullPosition() throws -> PullPosition {
        guard let upto = try meta(Meta.pulledUpto).flatMap(Int64.init), let head = try meta(Meta.pulledHead) else { return .start }
        return PullPosition(upto: upto, head: head)
    }

    private func agentStore(_ row: Row) -> AgentStore {
        AgentStore(node: row["node"], store: row["store"], checkpoint: row["checkpoint"], checkpointHead: row["checkpoint_head"], lastHello: row["last_hello"])
    }

    func agentStore(node: String, store: String) throws -> AgentStore? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM agent_store WHERE node = ? AND store = ?"), arguments: [node, store])
            .map(agentStore)
    }

    func agentStores() throws -> [AgentStore] {
        try Row.fetchAll(db, sql: "SELECT * FROM agent_store ORDER BY node, last_hello").map(agentStore)
    }

    func refusals(township: String?, before: Int64?, limit: Int) throws -> [Refusal] {
        let below = before ?? Int64.max
        let rows: [Row]
        if let township {
            rows = try Row.fetchAll(
                db, sql: "SELECT * FROM refusal WHERE (township = ? OR node = ?) AND id < ? ORDER BY id DESC LIMIT ?",
                arguments: [township, township, below, limit]
            )
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT * FROM refusal WHERE id < ? ORDER BY id DESC LIMIT ?", arguments: [below, limit])
        }
        return rows.map(refusal)
    }

    func refusals(key: String) throws -> [Refusal] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM refusal WHERE key = ? ORDER BY id"), arguments: [key]).map(refusal)
    }

    private func refusal(_ row: Row) -> Refusal {
        var refusal = Refusal(
            node: row["node"], store: row["store"], key: row["key"], township: row["township"], reason: row["reason"],
            message: row["message"], at: row["at"], version: row["version"]
        )
        refusal.id = row["id"]
        return refusal
    }

    func refusalCounts() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT node, count(*) AS n FROM refusal GROUP BY node") { result[row["node"]] = row["n"] }
        return result
    }

    func counts() throws -> [String: [RecordKind: Int]] {
        try countsWritten()
    }

    func countsWritten() throws -> [String: [RecordKind: Int]] {
        var result: [String: [RecordKind: Int]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT township, kind, n FROM kind_count WHERE n > 0") {
            guard let kind = RecordKind(rawValue: row["kind"]) else { continue }
            result[row["township"], default: [:]][kind] = row["n"]
        }
        return result
    }

    func ballotGroups(contest: String?, round: String?) throws -> [BallotGroup] {
        var conditions: [String] = []
        var arguments: [String] = []
        if let contest {
            conditions.append("contest = ?")
            arguments.append(contest)
        }
        if let round {
            conditions.append("round = ?")
            arguments.append(round)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try Row.fetchAll(db, sql: """
            SELECT contest, round, township, choices, valid, quarantined, count(*) AS n FROM ballot_group \(filter)
            GROUP BY contest, round, township, choices, valid, quarantined
            """, arguments: StatementArguments(arguments)).map { row in
            BallotGroup(
                contest: row["contest"], round: row["round"], township: row["township"], choices: BallotGroupText.choices(row["choices"]),
                valid: row["valid"], quarantined: row["quarantined"], count: row["n"]
            )
        }
    }

    func openConflicts() throws -> [OpenConflict] {
        try Row.fetchAll(db, sql: "SELECT key FROM conflict ORDER BY opened_seq").compactMap { row in
            guard let state = try keyState(of: row["key"]), let reason = state.conflict else { return nil }
            return OpenConflict(
                key: state.value.key, kind: state.value.kind, township: state.value.township, reason: reason,
                siblings: state.siblings.map(\.record), current: state.value
            )
        }
    }

    func quarantinedCount() throws -> Int {
        // By the partial index current_quarantined: a province's million current records are not read.
        try Int.fetchOne(db, sql: "SELECT count(*) FROM current INDEXED BY current_quarantined WHERE quarantined = 1") ?? 0
    }

    func openConflictCounts() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT township, count(*) AS n FROM conflict GROUP BY township") {
            result[row["township"]] = row["n"]
        }
        return result
    }

    func isRoundClosed(contest: String, round: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: ApplyPathSQL.roundClosed), arguments: [contest, round]) ?? false
    }

    func closedRounds() throws -> [ClosedRound] {
        try Row.fetchAll(db, sql: "SELECT contest, round FROM closed_round ORDER BY contest, round").map {
            ClosedRound(contest: $0["contest"], round: $0["round"])
        }
    }
}

/// One write transaction on the SQLite file.
struct SQLiteTransaction: SQLiteQueries, StoreTransaction, VersionLedger {
    let db: Database
    let node: String
    let decoded: DecodeCounter
    /// The log's head after the last version this transaction appended, so a batch reads it once.
    private let chain = WriteCursor()
    private let countDeltas = CountDeltas()

    init(db: Database, node: String, decoded: DecodeCounter) {
        self.db = db
        self.node = node
        self.decoded = decoded
    }

    func apply(_ record: SunshineModel.Record, flag: VersionFlag?, source: String?) throws -> ApplyDecision {
        try applyVersion(record, flag: flag, source: source)
    }

    func write(
        kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool, at date: Date, over extra: VersionVector,
        check: (CurrentRecord?) throws -> Void
    ) throws -> SunshineModel.Record {
        try writeVersion(
            kind: kind, key: key, township: township, data: data, deleted: deleted, at: date, over: extra, node: node, identity: try writerIdentity(),
            check: check
        )
    }

    /// The identity local writes stamp, read once a transaction (nothing in one changes it but
    /// ``renewIdentity()`` and ``beginIncarnation()``, which forget it).
    private func writerIdentity() throws -> StoreIdentity {
        if let known = chain.identity { return known }
        let identity = try identity()
        chain.identity = identity
        return identity
    }

    func offer(
        _ record: SunshineModel.Record, flag: VersionFlag?, source: String?, authorize: (VersionVector) throws(SunshineModel.RecordError) -> Void
    ) throws -> Offered {
        try offerVersion(record, flag: flag, source: source, authorize: authorize)
    }

    func canonicals(of key: String, clock: VersionVector) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: ApplyPathSQL.sameClock), arguments: [key, clock.description])
    }

    func nextSeq() throws -> Int64 {
        // AUTOINCREMENT hands out one more than the highest number it ever gave — after this
        // transaction's own append, one more than that.
        if let last = chain.lastSeq { return last + 1 }
        return try (Int64.fetchOne(db.cachedStatement(sql: "SELECT seq FROM sqlite_sequence WHERE name = 'version'")) ?? 0) + 1
    }

    func append(_ record: SunshineModel.Record, canonical: String, flag: VersionFlag?, source: String?) throws -> Int64 {
        let previous = try chain.head ?? Data.fetchOne(db.cachedStatement(sql: ApplyPathSQL.lastHead)).map(Array.init)
        let head = LogChain.next(after: previous ?? LogChain.originBytes, canonical: canonical)
        try db.cachedStatement(sql: ApplyPathSQL.append).execute(arguments: [
                record.key, record.kind.rawValue, record.township, record.origin, record.clock.description, canonical, flag?.rawValue, source,
                Data(head),
            ])
        // Only once the row is in: an append that failed leaves the cursor where the log is.
        chain.head = head
        chain.lastSeq = db.lastInsertedRowID
        return db.lastInsertedRowID
    }

    func save(_ state: KeyState, for key: String, replacing previous: KeyState?) throws {
        try db.cachedStatement(sql: ApplyPathSQL.saveCurrent).execute(arguments: [
                key, state.value.kind.rawValue, state.value.township, state.siblings.map { String($0.seq) }.joined(separator: ","),
                CurrentText.value(of: state), state.value.deleted, state.quarantined, state.siblings.map(\.seq).max() ?? 0,
            ])
        if let reason = state.conflict {
            try db.cachedStatement(sql: ApplyPathSQL.saveConflict)
                .execute(arguments: [key, state.value.kind.rawValue, state.value.township, reason.rawValue, state.conflictOpenedAt ?? 0])
        } else if previous?.conflict != nil {
            try db.cachedStatement(sql: ApplyPathSQL.closeConflict).execute(arguments: [key])
        }
    }

    func adjustCount(township: String, kind: RecordKind, by delta: Int) throws {
        countDeltas.pending[CountDeltas.Scope(township: township, kind: kind), default: 0] += delta
    }

    /// Writes the counts' pending changes; the store calls it when the transaction's body ends.
    func finish() throws {
        for (scope, delta) in countDeltas.pending where delta != 0 {
            try db.cachedStatement(sql: "INSERT INTO kind_count (township, kind, n) VALUES (?, ?, ?) ON CONFLICT (township, kind) DO UPDATE SET n = n + excluded.n")
                .execute(arguments: [scope.township, scope.kind.rawValue, delta])
        }
        countDeltas.pending = [:]
    }

    /// The counts as this transaction leaves them.
    func counts() throws -> [String: [RecordKind: Int]] {
        try finish()
        return try countsWritten()
    }

    func saveBallotGroup(_ group: BallotGroup?, for key: String) throws {
        guard let group else {
            try db.cachedStatement(sql: "DELETE FROM ballot_group WHERE key = ?").execute(arguments: [key])
            return
        }
        try db.cachedStatement(sql: """
            INSERT INTO ballot_group (key, contest, round, township, choices, valid, quarantined) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET contest = excluded.contest, round = excluded.round, township = excluded.township,
                choices = excluded.choices, valid = excluded.valid, quarantined = excluded.quarantined
            """).execute(arguments: [key, group.contest, group.round, group.township, BallotGroupText.choices(group.choices), group.valid, group.quarantined])
    }

    func advanceCheckpoint(_ name: String, to seq: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO checkpoint (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq)")
            .execute(arguments: [name, seq])
    }

    func setCheckpoint(_ name: String, to seq: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO checkpoint (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq")
            .execute(arguments: [name, seq])
    }

    func closeRound(contest: String, round: String) throws -> Bool {
        guard try !isRoundClosed(contest: contest, round: round) else { return false }
        try db.execute(sql: "INSERT INTO closed_round (contest, round, closed_seq) VALUES (?, ?, ?)", arguments: [contest, round, try latestSeq()])
        return true
    }

    func setMeta(_ name: String, _ value: String) throws {
        try db.cachedStatement(sql: "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .execute(arguments: [name, value])
    }

    func setPullPosition(_ position: PullPosition) throws {
        try setMeta(Meta.pulledUpto, String(position.upto))
        try setMeta(Meta.pulledHead, position.head)
    }

    func saveAgentStore(_ store: AgentStore) throws {
        try db.cachedStatement(sql: """
            INSERT INTO agent_store (node, store, checkpoint, checkpoint_head, last_hello) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (node, store) DO UPDATE SET checkpoint = excluded.checkpoint, checkpoint_head = excluded.checkpoint_head,
                last_hello = excluded.last_hello
            """).execute(arguments: [store.node, store.store, store.checkpoint, store.checkpointHead, store.lastHello])
    }

    func keepNewestStores(of node: String, count: Int, keeping: Set<String>) throws {
        let older = try String.fetchAll(db.cachedStatement(sql: """
            SELECT store FROM agent_store WHERE node = ? ORDER BY last_hello DESC, store DESC LIMIT -1 OFFSET ?
            """), arguments: [node, count])
        for store in older where !keeping.contains(store) {
            try db.cachedStatement(sql: "DELETE FROM agent_store WHERE node = ? AND store = ?").execute(arguments: [node, store])
        }
    }

    func holdAside(_ refusal: Refusal) throws -> Bool {
        let held = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM refusal WHERE node = ?"), arguments: [refusal.node]) ?? 0
        guard held < Refusal.maxPerNode else { return false }
        try db.cachedStatement(sql: """
            INSERT INTO refusal (node, store, key, township, reason, message, at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (node, version) DO NOTHING
            """).execute(arguments: [
                refusal.node, refusal.store, refusal.key, refusal.township, refusal.reason, refusal.message, refusal.at, refusal.version,
            ])
        return db.changesCount > 0
    }

    func beginIncarnation() throws {
        chain.identity = nil
        try setMeta(Meta.actor, Actor.fresh(for: node))
    }

    func renewIdentity() throws {
        chain.identity = nil
        let fresh = StoreIdentity.fresh(for: node)
        try setMeta(Meta.storeID, fresh.storeID)
        try setMeta(Meta.actor, fresh.actor)
    }

    /// Gives a store that has none (a new file, or one from before store ids) its identity.
    /// Only the first of two processes creating the file at once gives it its id: the other's
    /// insert changes nothing.
    func ensureIdentity() throws {
        chain.identity = nil
        let fresh = StoreIdentity.fresh(for: node)
        try db.execute(sql: "INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?), (?, ?)", arguments: [
            Meta.storeID, fresh.storeID, Meta.actor, fresh.actor,
        ])
    }
}
