import Foundation
import GRDB
import SunshineModel

/// One node's durable store: the township's source of truth on an agent, the county's on the
/// coordinator (DESIGN §3.5–3.8).
///
/// SQLite in WAL mode with `synchronous = FULL`, one `DatabasePool` per file for the life of the
/// process; several processes may open the same file (a clerk's command while the agent runs).
/// Everything that must be atomic happens in one ``write(_:)`` transaction, and a caller
/// acknowledges nothing before it returns.
public final class ReplicaStore: Sendable {
    public let path: String
    /// The node this store belongs to; local writes are made as this node.
    public let node: String
    private let pool: DatabasePool

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
            try Schema.migrator.migrate(pool)
            // Touch a data page, so a damaged file is refused now rather than at the first write.
            _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT seq FROM version LIMIT 1") }
        } catch {
            throw StoreError.unreadable(path, error)
        }
    }

    /// The writer's `PRAGMA synchronous` (2 = FULL).
    public func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Runs `body` in one write transaction, committed (and fsynced) before this returns.
    public func write<T: Sendable>(_ body: @Sendable (StoreTransaction) throws -> T) async throws -> T {
        let node = self.node
        return try await pool.write { db in try body(StoreTransaction(db: db, node: node)) }
    }

    /// Runs `body` in a read-only snapshot.
    public func read<T: Sendable>(_ body: @Sendable (StoreReader) throws -> T) async throws -> T {
        try await pool.read { db in try body(StoreReader(db: db)) }
    }

    /// Copies the whole database, consistently, to a new file at `path` (SQLite's online backup):
    /// what an operator keeps, and what a restore brings back.
    public func backup(to path: String) throws {
        let target = try DatabaseQueue(path: path)
        try pool.backup(to: target)
    }

    /// Synchronous variants for command-line tools that write once and exit.
    public func writeNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try pool.write { db in try body(StoreTransaction(db: db, node: node)) }
    }

    public func readNow<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try pool.read { db in try body(StoreReader(db: db)) }
    }
}

/// A stored version with its local sequence number.
public struct StoredVersion: Sendable, Equatable {
    public var seq: Int64
    public var record: Record
    public var flag: String?
}

/// An open conflict: the key and the versions that disagree.
public struct OpenConflict: Sendable, Equatable {
    public var key: String
    public var kind: RecordKind
    public var township: String
    /// `concurrent` (independent edits) or `integrity` (same clock, different content).
    public var reason: String
    public var siblings: [Record]
    public var current: Record
}

/// A key's current state.
public struct CurrentRecord: Sendable, Equatable {
    public var value: Record
    public var siblings: [Record]
    public var quarantined: Bool
    public var inConflict: Bool { siblings.count > 1 }
}
