import ArgumentParser
import Foundation
import SunshineStore

/// `sunshine backup --data DIR --to FILE`: a consistent copy of a node's store, taken while the
/// node runs (SQLite's online backup from one read snapshot), written aside and moved into place
/// only when complete, so FILE is always either the old backup or the whole new one.
struct BackupCommand: AsyncParsableCommand, SettingFlags {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a node's store to a file while the node runs (restore: stop the node, put the file in place).",
        discussion: """
            The store is DIR/NODE.sqlite; --node is needed only when DIR holds more than one. To restore, stop \
            the node, copy FILE over DIR/NODE.sqlite, delete DIR/NODE.sqlite-wal and DIR/NODE.sqlite-shm, and \
            start it: agents re-send to a restored coordinator whatever it lacks (see README, "Deploying to a county").
            """
    )

    @OptionGroup var storage: DataOptions

    @Option(help: "Whose store to copy when DIR holds several (env SUNSHINE_NODE).")
    var node: String?

    @Option(help: "The backup file to write; replaced only once the new copy is complete.")
    var to: String

    var flags: [Setting: String?] { [.node: node] }

    func run() async throws {
        let settings = Settings(self, storage)
        let directory = try DataOptions.directory(settings)
        let node = try Self.storeNode(
            in: directory, named: try settings.isSet(.node) ? settings.nodeName(.node, missing: "") : nil)
        let source = (directory as NSString).appendingPathComponent("\(node).sqlite")
        let target = URL(fileURLWithPath: to).standardizedFileURL
        try Self.checkTarget(target, notAmong: directory, to: to)
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial")
        try? FileManager.default.removeItem(at: partial)
        // The copy's file is made first, so a place that cannot hold it is named as such.
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw CommandFailure(
                "The backup cannot be written to \(to): no file can be made in \(partial.deletingLastPathComponent().path); choose another --to. The store is untouched.")
        }
        let store = try SQLiteStore(path: source, node: node)
        do {
            try await store.backup(to: partial.path)
            try Self.replace(target, with: partial)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
        print("Backed up \(node)'s store \(source) to \(target.path) (\(size) bytes).")
    }

    /// Refuses a backup file that would replace a store's own file — the database or the
    /// write-ahead log, shared memory or journal beside it, of any store in the data directory:
    /// renaming a copy over a live store's WAL loses every write not yet checkpointed.
    static func checkTarget(_ target: URL, notAmong directory: String, to: String) throws {
        let resolved = target.resolvingSymlinksInPath()
        let data = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath()
        guard resolved.deletingLastPathComponent().path == data.path else { return }
        let name = resolved.lastPathComponent
        let storeFile = [".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal"].contains { name.hasSuffix($0) }
        guard !storeFile else {
            throw CommandFailure(
                "--to \(to) is a store's own file in the data directory \(directory); write the backup outside it, e.g. --to /var/backups/\(name.split(separator: ".").first ?? "store")-backup.sqlite."
            )
        }
    }

    /// The node whose store is in `directory`: `named`, or the only `*.sqlite` file there.
    static func storeNode(in directory: String, named: String?) throws -> String {
        if let named {
            let path = (directory as NSString).appendingPathComponent("\(named).sqlite")
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure("\(path) does not exist; pass the --data directory of the running \(named).")
            }
            return named
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let stores = files.filter { $0.hasSuffix(".sqlite") }.map { String($0.dropLast(".sqlite".count)) }.sorted()
        switch stores.count {
        case 0:
            throw CommandFailure(
                "\(directory) holds no Sunshine store (no NODE.sqlite); pass the node's --data directory.")
        case 1: return stores[0]
        default:
            throw CommandFailure(
                "\(directory) holds the stores of \(stores.joined(separator: ", ")); say which with --node.")
        }
    }

    /// Moves the complete copy over `target` and makes the rename durable.
    private static func replace(_ target: URL, with partial: URL) throws {
        guard rename(partial.path, target.path) == 0 else {
            throw CommandFailure("Cannot write \(target.path): \(String(cString: strerror(errno))).")
        }
        let folder = open(target.deletingLastPathComponent().path, O_RDONLY)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }
}
