import Foundation
import GRDB
import SunshineModel

/// The durable store: one SQLite file per node, in WAL mode with `synchronous = FULL`, one
/// `DatabasePool` for the life of the process (DESIGN §3.8). Several processes may open the same
/// file — a clerk's command while the agent runs — and SQLite serialises their writes.
public final class SQLiteStore: ReplicaStore {
    public let path: String
    public let node: String
    private let pool: DatabasePool
    let decoded = DecodeCounter()

    public init(path: String, node: String) throws {
        self.path = path
        self.node = node
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "sunshine.\(node)"
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB's WAL set-up sets synchronous = NORMAL after prepareDatabase; FULL must be set
            // on the writer afterwards, outside a transaction (DESIGN §3.8).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrate(pool)
            try pool.write { db in try SQLiteTransaction(db: db, node: node, decoded: DecodeCounter()).ensureIdentity() }
            // Touch a data page, so a damaged file is refused now rather than at the first write.
            _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT seq FROM version LIMIT 1") }
        } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL].contains(error.resultCode) {
            // A file another program holds locked, or a full disk, is not a damaged store.
            throw Self.explanation(of: error, path: path)
        } catch {
            throw StoreError.unreadable(path, error)
        }
    }

    /// Brings the file's tables up to date. GRDB's migrator reads which migrations are applied
    /// outside the transaction that applies one, so two processes opening a new file at the same
    /// moment — an agent and a clerk's first `ballot add` — can both try the same migration; the one
    /// that loses sees the other's work when it tries again.
    private static func migrate(_ pool: DatabasePool) throws {
        var attempt = 0
        while true {
            do {
                return try Schema.migrator.migrate(pool)
            } catch let error as DatabaseError where attempt < 20 && error.resultCode == .SQLITE_ERROR {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// The writer's `PRAGMA synchronous` (2 = FULL).
    public func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The journal mode of the file (`wal`).
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    public func read<T: Sendable>(_ body: @Sendable (any StoreSnapshot) throws -> T) async throws -> T {
        let decoded = self.decoded
        return try await explained { try await pool.read { db in try body(SQLiteSnapshot(db: db, decoded: decoded)) } }
    }

    public func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        let node = self.node
        let decoded = self.decoded
        return try await explained { try await pool.write { db in try body(SQLiteTransaction(db: db, node: node, decoded: decoded)) } }
    }

    public func backup(to path: String) async throws {
        try await explained {
            let target = try DatabaseQueue(path: path)
            try pool.backup(to: target)
        }
    }

    /// SQLite's errors leave the store as ``StoreError`` sentences; GRDB stays an implementation detail.
    private func explained<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError {
            throw Self.explanation(of: error, path: path)
        }
    }

    /// The sentence for what SQLite said about the file at `path`.
    private static func explanation(of error: DatabaseError, path: String) -> StoreError {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(
                "The database \(path) is busy: another program held it locked for more than 10 s; nothing was written, try again.",
                reason: .busy
            )
        case .SQLITE_FULL:
            return StoreError("The disk holding \(path) is full; nothing was written. Free some space and try again.", reason: .full)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return StoreError.unreadable(path, error)
        default:
            return StoreError("The database \(path) failed: \(error.message ?? "\(error.resultCode)"); nothing was written.")
        }
    }
}
