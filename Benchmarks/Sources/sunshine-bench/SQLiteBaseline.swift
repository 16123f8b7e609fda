import Foundation
import GRDB

/// The disk's own figures, and bare GRDB on it: the same records Sunshine stores, in a table of
/// (key, record) with WAL and `synchronous = FULL` — as fast as durable SQLite gets through GRDB.
struct BareGRDB {
    let pool: DatabasePool

    init(path: String) throws {
        pool = try DatabasePool(path: path)
        // GRDB's WAL set-up resets synchronous to NORMAL after prepareDatabase (DESIGN §3.8).
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let mode = try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        guard mode == 2 else { throw BenchError("bare GRDB could not set synchronous = FULL") }
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS record (key TEXT PRIMARY KEY, body TEXT NOT NULL)")
        }
    }

    /// Inserts `records` (key, JSON text) `perTransaction` at a time; the seconds it took.
    func insert(_ records: [(String, String)], perTransaction: Int) throws -> Double {
        let start = monotonicNanos()
        var index = 0
        while index < records.count {
            let end = min(index + perTransaction, records.count)
            let slice = records[index..<end]
            try pool.write { db in
                let statement = try db.cachedStatement(sql: "INSERT INTO record (key, body) VALUES (?, ?)")
                for (key, body) in slice { try statement.execute(arguments: [key, body]) }
            }
            index = end
        }
        return Double(monotonicNanos() - start) / 1e9
    }

    /// One row per transaction; each commit's latency in µs.
    func insertOneByOne(_ records: [(String, String)]) throws -> [Double] {
        var samples: [Double] = []
        samples.reserveCapacity(records.count)
        for (key, body) in records {
            let start = monotonicNanos()
            try pool.write { db in
                try db.cachedStatement(sql: "INSERT INTO record (key, body) VALUES (?, ?)").execute(arguments: [
                    key, body,
                ])
            }
            samples.append(Double(monotonicNanos() - start) / 1_000)
        }
        return samples
    }
}

/// `fsync` latency of the disk under `directory`: 4 KiB appended, then fsync, `count` times, in µs.
func fsyncLatencies(in directory: String, count: Int) throws -> [Double] {
    let path = (directory as NSString).appendingPathComponent("fsync-probe")
    let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
    guard fd >= 0 else { throw BenchError("cannot open \(path)") }
    defer {
        close(fd)
        unlink(path)
    }
    let block = [UInt8](repeating: 0x5a, count: 4096)
    var samples: [Double] = []
    for _ in 0..<count {
        let written = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == block.count else { throw BenchError("short write to \(path)") }
        let start = monotonicNanos()
        guard fsync(fd) == 0 else { throw BenchError("fsync failed on \(path)") }
        samples.append(Double(monotonicNanos() - start) / 1_000)
    }
    return samples
}
