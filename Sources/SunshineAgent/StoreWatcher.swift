import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Tells the agent the moment another process — a clerk's `sunshine ballot add` — commits to the
/// township's store, so a ballot leaves for the county within milliseconds instead of at the next
/// poll. Linux's inotify reports every write to the store's files (`NODE.sqlite`, its `-wal` and
/// `-shm`): SQLite has no notification that crosses processes, and a clerk's command should not
/// need to know whether an agent runs.
enum StoreWatcher {
    /// A stream that yields whenever one of the files of the SQLite store at `path` is written, or
    /// nil where the system cannot watch files (the agent then relies on its slow fallback poll).
    static func changes(of path: String) -> AsyncStream<Void>? {
        #if canImport(Glibc)
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let events = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO)
        guard inotify_add_watch(descriptor, directory.isEmpty ? "." : directory, events) >= 0 else {
            close(descriptor)
            return nil
        }
        return AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            // A dispatch source may be cancelled from any thread.
            nonisolated(unsafe) let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: DispatchQueue(label: "sunshine.store-watcher"))
            source.setEventHandler {
                if Self.drain(descriptor, concerning: name) { continuation.yield() }
            }
            source.setCancelHandler { close(descriptor) }
            continuation.onTermination = { _ in source.cancel() }
            source.resume()
        }
        #else
        return nil
        #endif
    }

    #if canImport(Glibc)
    /// Reads every pending event; says whether one concerns the store's files (`name` and the
    /// `name-wal`, `name-shm` beside it).
    private static func drain(_ descriptor: Int32, concerning name: String) -> Bool {
        var concerned = false
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return concerned }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let length = buffer.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)) }
                let start = offset + MemoryLayout<inotify_event>.size
                let end = min(start + length, count)
                let file = String(decoding: buffer[start..<end].prefix { $0 != 0 }, as: UTF8.self)
                if file == name || file.hasPrefix(name + "-") { concerned = true }
                offset = start + length
            }
        }
    }
    #endif
}
