import Foundation
import GRDB
import SunshineModel
import Synchronization

/// The durable store: one SQLite file per node, in WAL mode with `synchronous = FULL`, one
/// `DatabasePool` for the life of the process (DESIGN §3.8). Several processes may open the same
/// file — a clerk's command while the agent runs — and SQLite serialises their writes.
public final class SQLiteStore: ReplicaStore {
    public let path: String
    public let node: String
    private let pool: DatabasePool
    let decoded = DecodeCounter()
    /// Writes waiting for the writer, and whether it is draining them (group commit).
    private let queued = Mutex(WriteQueue())

    public init(path: String, node: String) throws {
        self.path = path
        self.node = node
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "sunshine.\(node)"
        try Self.prepare(path)
        do {
            pool = try Self.openPool(path: path, configuration: configuration)
            // GRDB's WAL set-up sets synchronous = NORMAL after prepareDatabase; FULL must be set
            // on the writer afterwards, outside a transaction (DESIGN §3.8).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            // A store already migrated and identified opens without writing, so that a clerk's
            // `local status` or `ballot list` reads it while an import or the agent holds the
            // write lock (WAL readers never wait for the writer).
            if try !Self.isReady(pool) {
                try Self.migrate(pool)
                try pool.write { db in try SQLiteTransaction(db: db, node: node, decoded: DecodeCounter()).ensureIdentity() }
            }
            // Touch a data page, so a damaged file is refused now rather than at the first write.
            _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT seq FROM version LIMIT 1") }
        } catch let error as DatabaseError {
            throw Self.openingFailure(error, path: path, node: node, freeBytes: Self.freeBytes(beside: path))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("The database \(path) cannot be opened (\(error.localizedDescription)); nothing was written.")
        }
    }

    /// Makes the store's directory, and refuses in one sentence a path that cannot hold a store —
    /// a directory where the file should be, a file where a directory should be, a directory this
    /// user cannot write (SQLite writes its `-wal` and `-shm` files beside the store) — before
    /// SQLite would call any of them "unable to open database file".
    private static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if !directory.isEmpty {
            // The nearest part of the path that exists must be a directory.
            var existing = directory
            while !existing.isEmpty, existing != "/", !manager.fileExists(atPath: existing) {
                existing = (existing as NSString).deletingLastPathComponent
            }
            if !existing.isEmpty, manager.fileExists(atPath: existing, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw StoreError(
                    "\(existing) is a file, not a directory, so the store \(path) cannot be kept there; "
                        + "nothing was written. Choose a directory for the data.",
                    reason: .unusable
                )
            }
            // Make what is missing one level at a time, so that a refusal names its real cause.
            var missing: [String] = []
            var parent = directory
            while parent != existing {
                missing.insert(parent, at: 0)
                parent = (parent as NSString).deletingLastPathComponent
            }
            if !missing.isEmpty { try writable(existing.isEmpty ? "." : existing) }
            for level in missing where mkdir(level, 0o777) != 0 && errno != EEXIST {
                let code = errno
                if code == ENOSPC { throw full(path) }
                throw StoreError(
                    "The directory \(level) for the store cannot be created (\(reason(errno: code))); "
                        + "nothing was written. Create it, or choose another directory for the data.",
                    reason: .unusable
                )
            }
            try writable(directory)
        }
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw StoreError(
                    "\(path) is a directory, not a store file; nothing was written. "
                        + "Choose a data directory that does not hold a directory of that name.",
                    reason: .unusable
                )
            }
            if access(path, R_OK | W_OK) != 0 {
                let why = reason(errno: errno)
                throw StoreError(
                    "The store \(path) cannot be read and written by this user (\(why)); nothing was written. "
                        + "Run as the user who owns it.",
                    reason: .unusable
                )
            }
        }
    }

    /// Refuses a directory this user cannot make files in: SQLite keeps its journal beside the store.
    private static func writable(_ directory: String) throws {
        guard access(directory, W_OK | X_OK) != 0 else { return }
        let code = errno
        let advice =
            code == EROFS
            ? "Choose a directory on a disk that is mounted writable."
            : "Run as the user who owns it, or choose another directory for the data."
        throw StoreError(
            "The directory \(directory) cannot be written by this user (\(reason(errno: code))), and SQLite keeps its "
                + "journal beside the store; nothing was written. \(advice)",
            reason: .unusable
        )
    }

    /// What SQLite's failure to open, migrate or identify the store at `path` means, given the
    /// bytes still free on its disk (nil when unknown). A full disk often shows as an I/O error
    /// here — SQLite cannot grow the `-shm` file — and must not be taken for a damaged file: the
    /// advice for a damaged one (restore, or move it aside) would abandon unsent ballots.
    static func openingFailure(_ error: DatabaseError, path: String, node: String, freeBytes: Int64?) -> StoreError {
        let nearlyFull = freeBytes.map { $0 < 1_048_576 } ?? false
        if nearlyFull && [.SQLITE_IOERR, .SQLITE_CANTOPEN].contains(error.resultCode) { return full(path) }
        return explanation(of: error, path: path, node: node)
    }

    /// Bytes this user may still write on the disk holding `path`, nil when it cannot be asked.
    static func freeBytes(beside path: String) -> Int64? {
        let directory = (path as NSString).deletingLastPathComponent
        var info = statvfs()
        guard statvfs(directory.isEmpty ? "." : directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    private static func full(_ path: String) -> StoreError {
        StoreError("The disk holding \(path) is full; nothing was written. Free some space and try again.", reason: .full)
    }

    private static func reason(errno code: Int32) -> String {
        code == 0 ? "unknown reason" : String(cString: strerror(code)).lowercased()
    }

    /// GRDB puts a new file in WAL mode as it opens it, and SQLite answers `PRAGMA journal_mode =
    /// WAL` with SQLITE_BUSY at once — its busy handler is not asked — while another connection is
    /// doing the same: a clerk's first `ballot add` beside the agent. So opening tries again, for
    /// as long as the busy timeout would have waited.
    private static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        try retryingWhileAnotherOpener(fails: [.SQLITE_BUSY], for: .seconds(10), pause: 0.01) {
            try DatabasePool(path: path, configuration: configuration)
        }
    }

    /// Runs `step` of opening again, after `pause` seconds, while it fails with one of `codes` —
    /// what another process setting up the same file at the same moment makes it fail with — for
    /// at most `limit`; then its error stands.
    private static func retryingWhileAnotherOpener<T>(
        fails codes: [ResultCode], for limit: Duration, pause: TimeInterval, _ step: () throws -> T
    ) throws -> T {
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                return try step()
            } catch let error as DatabaseError where codes.contains(error.resultCode) && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: pause)
            }
        }
    }

    /// Whether every migration has run and the store has its identity: nothing to write on opening.
    private static func isReady(_ pool: DatabasePool) throws -> Bool {
        try pool.read { db in
            guard try Schema.migrator.hasCompletedMigrations(db) else { return false }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM meta WHERE name IN (?, ?)", arguments: [Meta.storeID, Meta.actor]) == 2
        }
    }

    /// Brings the file's tables up to date. GRDB's migrator reads which migrations are applied
    /// outside the transaction that applies one, so two processes opening a new or an older file at
    /// the same moment — an agent and a clerk's first `ballot add` — can both try the same
    /// migration. The loser's transaction fails — on a table the winner created (an SQL error) or on
    /// the migration's row the winner wrote (a constraint) — and rolls back whole, so it only has
    /// to look again to see the other's work.
    private static func migrate(_ pool: DatabasePool) throws {
        try retryingWhileAnotherOpener(fails: [.SQLITE_ERROR, .SQLITE_CONSTRAINT], for: .seconds(1), pause: 0.05) {
            try Schema.migrator.migrate(pool)
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

    /// Runs `body` in a transaction of its own or, when other writes are waiting, in one SQLite
    /// transaction shared with them (group commit, DESIGN §3.8): each body inside its own savepoint,
    /// so one that throws leaves no trace while the others commit; every caller returns only after
    /// the shared commit. Concurrent pushes from many agents then cost one fsync, not one each.
    public func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await write(body, queued: {})
    }

    public func write<T: Sendable>(
        _ body: @Sendable (any StoreTransaction) throws -> T, queued: @escaping @Sendable () -> Void
    ) async throws -> T {
        let node = self.node
        let decoded = self.decoded
        return try await explained {
            try await withoutActuallyEscaping(body) { body in
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                    let outcome = WriteOutcome<T>()
                    let job = GroupedWrite(
                        run: { db in
                            do {
                                var value: T?
                                try db.inSavepoint {
                                    let transaction = SQLiteTransaction(db: db, node: node, decoded: decoded)
                                    value = try body(transaction)
                                    try transaction.finish()
                                    return .commit
                                }
                                outcome.result = value.map { .success($0) }
                            } catch {
                                outcome.result = .failure(error)
                            }
                        },
                        finish: { commitError in
                            if let commitError {
                                continuation.resume(throwing: commitError)
                            } else if let result = outcome.result {
                                continuation.resume(with: result)
                            } else {
                                continuation.resume(throwing: StoreError("The write to \(self.path) did not run; nothing was written."))
                            }
                        }
                    )
                    enqueue(job)
                    queued()
                }
            }
        }
    }

    /// Queues a write; the first of a group starts the writer, which takes every write queued by
    /// the time it begins a transaction.
    private func enqueue(_ job: GroupedWrite) {
        let lead = queued.withLock { state -> Bool in
            state.jobs.append(job)
            if state.draining { return false }
            state.draining = true
            return true
        }
        if lead { pool.asyncWriteWithoutTransaction { db in self.drain(db) } }
    }

    private func drain(_ db: Database) {
        while true {
            let jobs = queued.withLock { state -> [GroupedWrite] in
                let jobs = state.jobs
                state.jobs = []
                if jobs.isEmpty { state.draining = false }
                return jobs
            }
            if jobs.isEmpty { return }
            var commitError: (any Error)?
            do {
                try db.inTransaction {
                    for job in jobs {
                        job.run?(db)
                        // The body must not outlive its caller's call (withoutActuallyEscaping).
                        job.run = nil
                    }
                    return .commit
                }
            } catch {
                commitError = error
            }
            for job in jobs {
                job.run = nil
                job.finish(commitError)
            }
        }
    }

    public func backup(to path: String) async throws {
        let target: DatabaseQueue
        do {
            target = try DatabaseQueue(path: path)
        } catch let error as DatabaseError {
            // The copy's file, not the store, is what failed: say so.
            throw StoreError("The backup cannot be written to \(path) (\(error.message ?? "\(error.resultCode)")); the store is untouched.")
        }
        try await explained { try pool.backup(to: target) }
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
    private static func explanation(of error: DatabaseError, path: String, node: String? = nil) -> StoreError {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(
                "The database \(path) is busy: another program held it locked for more than 10 s; nothing was written, try again.",
                reason: .busy
            )
        case .SQLITE_FULL:
            return full(path)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return StoreError.damaged(path, error.message ?? "\(error.resultCode)", node: node)
        default:
            return StoreError("The database \(path) failed: \(error.message ?? "\(error.resultCode)"); nothing was written.")
        }
    }
}

/// The writes waiting for SQLite's one writer.
private struct WriteQueue {
    var jobs: [GroupedWrite] = []
    var draining = false
}

/// One caller's write in a group: its body (run once, inside the group's transaction) and how to
/// answer it once the group committed or failed. Touched by the writer only, one group at a time.
private final class GroupedWrite: @unchecked Sendable {
    var run: ((Database) -> Void)?
    let finish: ((any Error)?) -> Void

    init(run: @escaping (Database) -> Void, finish: @escaping ((any Error)?) -> Void) {
        self.run = run
        self.finish = finish
    }
}

/// What one body returned or threw.
private final class WriteOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
