import Foundation
import GRDB
import SunshineModel

/// The store's tables, created and evolved only by these migrations. A shipped migration is never
/// edited; a change is a new migration.
///
/// * `version` is the history and the change log at once: every accepted version, never updated
///   or deleted, numbered by `seq` in the order this store accepted it.
/// * `current` holds, per key, the current siblings and the merged value every node computes.
/// * `conflict` lists keys whose siblings disagree, open until a dominating version arrives.
/// * `checkpoint` holds named positions: per agent on the coordinator, `pulled` on an agent.
/// * `closed_round` lists (contest, round) pairs after which ballots are quarantined.
///
/// v2 (the store's identity, the hash-chained log, refusals held aside):
/// * `meta` holds the store id, the actor of local writes and the pull position.
/// * `version.source` is the agent store a version was received from; `version.head` the log's
///   hash-chain head after it (``LogChain``); `version_by_key_clock` finds equal-clock versions
///   without reading a key's history.
/// * `agent_store` is what the county holds of each agent store; `refusal` the versions held aside.
///
/// v3 (what applying a version writes, sunshine-bench durable): `version` loses `UNIQUE (key,
/// record)`, an index holding a second copy of every record — a duplicate is found by its clock
/// (`version_by_key_clock`) and its bytes, before anything is written — and `version_by_key`, whose
/// lookups `version_by_key_clock` serves; `current_by_township` goes, as nothing reads by it since
/// `status` reads `kind_count`.
///
/// v4 (fewer B-trees per ballot, sunshine-bench stages): `current` and `ballot_group` are
/// `WITHOUT ROWID`, and `current_by_kind` goes — the records of a kind are the keys from `kind/`
/// to `kind0` (``KindRange``), as every key starts with its kind (``RecordRules``).
///
/// Since v3, with no change to the tables: a `current` row whose value is its one sibling holds
/// an empty `value` and is read from `version` by `current.seq` (``CurrentText``).
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE version (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    township TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    clock TEXT NOT NULL,
                    record TEXT NOT NULL,
                    flag TEXT,
                    UNIQUE (key, record)
                );
                CREATE INDEX version_by_key ON version (key);
                CREATE INDEX version_by_origin ON version (origin, seq);

                CREATE TABLE current (
                    key TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    township TEXT NOT NULL,
                    siblings TEXT NOT NULL,
                    value TEXT NOT NULL,
                    deleted INTEGER NOT NULL,
                    quarantined INTEGER NOT NULL,
                    seq INTEGER NOT NULL
                );
                CREATE INDEX current_by_township ON current (township, kind);
                CREATE INDEX current_by_kind ON current (kind);

                CREATE TABLE conflict (
                    key TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    township TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    opened_seq INTEGER NOT NULL
                );

                CREATE TABLE checkpoint (
                    name TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL
                );

                CREATE TABLE closed_round (
                    contest TEXT NOT NULL,
                    round TEXT NOT NULL,
                    closed_seq INTEGER NOT NULL,
                    PRIMARY KEY (contest, round)
                );
                """)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                ALTER TABLE version ADD COLUMN source TEXT;
                ALTER TABLE version ADD COLUMN head BLOB;
                CREATE INDEX version_by_key_clock ON version (key, clock);
                CREATE TABLE agent_store (
                    node TEXT NOT NULL,
                    store TEXT NOT NULL,
                    checkpoint INTEGER NOT NULL,
                    checkpoint_head TEXT,
                    last_hello INTEGER NOT NULL,
                    PRIMARY KEY (node, store)
                );
                CREATE TABLE refusal (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    node TEXT NOT NULL,
                    store TEXT NOT NULL,
                    key TEXT NOT NULL,
                    township TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    message TEXT NOT NULL,
                    at TEXT NOT NULL,
                    version TEXT NOT NULL,
                    UNIQUE (node, version)
                );
                CREATE INDEX refusal_by_township ON refusal (township, id);
                CREATE INDEX refusal_by_key ON refusal (key);
                CREATE TABLE kind_count (
                    township TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    PRIMARY KEY (township, kind)
                );
                CREATE TABLE ballot_group (
                    key TEXT PRIMARY KEY,
                    contest TEXT NOT NULL,
                    round TEXT NOT NULL,
                    township TEXT NOT NULL,
                    choices TEXT NOT NULL,
                    valid INTEGER NOT NULL,
                    quarantined INTEGER NOT NULL
                );
                CREATE INDEX ballot_group_by_round ON ballot_group (contest, round);
                CREATE INDEX current_quarantined ON current (key) WHERE quarantined = 1;
                INSERT INTO kind_count (township, kind, n)
                    SELECT township, kind, count(*) FROM current WHERE deleted = 0 GROUP BY township, kind;
                """)
            // Chain the versions a v1 store already holds, in order.
            var head = LogChain.originBytes
            for row in try Row.fetchAll(db, sql: "SELECT seq, record FROM version ORDER BY seq") {
                head = LogChain.next(after: head, canonical: row["record"])
                try db.execute(sql: "UPDATE version SET head = ? WHERE seq = ?", arguments: [Data(head), row["seq"] as Int64])
            }
            // The tally's groups of the ballots a v1 store already holds.
            for row in try Row.fetchAll(db, sql: "SELECT key, value, quarantined FROM current WHERE kind = 'ballot'") {
                let value = try RecordText.decode(row["value"])
                guard let group = BallotGroup(value, quarantined: row["quarantined"]) else { continue }
                try db.execute(
                    sql: "INSERT INTO ballot_group (key, contest, round, township, choices, valid, quarantined) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [row["key"] as String, group.contest, group.round, group.township, BallotGroupText.choices(group.choices), group.valid, group.quarantined]
                )
            }
            // Agents' checkpoints become those of the store they had before store ids existed ("").
            try db.execute(sql: """
                INSERT INTO agent_store (node, store, checkpoint, checkpoint_head, last_hello)
                SELECT substr(name, 7), '', seq, NULL, 0 FROM checkpoint WHERE substr(name, 1, 6) = 'agent:'
                """)
            try db.execute(sql: "DELETE FROM checkpoint WHERE substr(name, 1, 6) = 'agent:'")
        }
        migrator.registerMigration("v3") { db in
            // SQLite cannot drop a table's constraint, so the table is rebuilt, keeping every
            // sequence number and the AUTOINCREMENT high-water mark (a number is never reused).
            let issued = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'version'") ?? 0
            try db.execute(sql: """
                CREATE TABLE version_v3 (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    township TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    clock TEXT NOT NULL,
                    record TEXT NOT NULL,
                    flag TEXT,
                    source TEXT,
                    head BLOB
                );
                INSERT INTO version_v3 (seq, key, kind, township, origin, clock, record, flag, source, head)
                    SELECT seq, key, kind, township, origin, clock, record, flag, source, head FROM version ORDER BY seq;
                DROP TABLE version;
                ALTER TABLE version_v3 RENAME TO version;
                CREATE INDEX version_by_key_clock ON version (key, clock);
                CREATE INDEX version_by_origin ON version (origin, seq);
                DROP INDEX current_by_township;
                """)
            try db.execute(sql: "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'version'", arguments: [issued])
        }
        migrator.registerMigration("v4") { db in
            // Each WITHOUT ROWID: one B-tree keyed by `key` instead of a rowid table and an index
            // on `key`, so a ballot's current row and tally group are two page writes, not four.
            // `current_by_kind` goes too: a key starts with its kind, so a kind is a range of keys.
            try db.execute(sql: """
                CREATE TABLE current_v4 (
                    key TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    township TEXT NOT NULL,
                    siblings TEXT NOT NULL,
                    value TEXT NOT NULL,
                    deleted INTEGER NOT NULL,
                    quarantined INTEGER NOT NULL,
                    seq INTEGER NOT NULL
                ) WITHOUT ROWID;
                INSERT INTO current_v4 SELECT key, kind, township, siblings, value, deleted, quarantined, seq FROM current;
                DROP TABLE current;
                ALTER TABLE current_v4 RENAME TO current;
                CREATE INDEX current_quarantined ON current (key) WHERE quarantined = 1;

                CREATE TABLE ballot_group_v4 (
                    key TEXT PRIMARY KEY,
                    contest TEXT NOT NULL,
                    round TEXT NOT NULL,
                    township TEXT NOT NULL,
                    choices TEXT NOT NULL,
                    valid INTEGER NOT NULL,
                    quarantined INTEGER NOT NULL
                ) WITHOUT ROWID;
                INSERT INTO ballot_group_v4 SELECT key, contest, round, township, choices, valid, quarantined FROM ballot_group;
                DROP TABLE ballot_group;
                ALTER TABLE ballot_group_v4 RENAME TO ballot_group;
                CREATE INDEX ballot_group_by_round ON ballot_group (contest, round);
                """)
        }
        return migrator
    }
}
