import GRDB

/// The store's tables, created and evolved only by these migrations. A shipped migration is never
/// edited; a change is a new migration.
///
/// * `version` is the history and the change log at once: every accepted version, never updated
///   or deleted, numbered by `seq` in the order this store accepted it.
/// * `current` holds, per key, the current siblings and the merged value every node computes.
/// * `conflict` lists keys whose siblings disagree, open until a dominating version arrives.
/// * `checkpoint` holds named positions: per agent on the coordinator, `pulled` on an agent.
/// * `closed_round` lists (contest, round) pairs after which ballots are quarantined.
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
        return migrator
    }
}
