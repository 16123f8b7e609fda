import Dispatch
import Foundation
import SunshineStore

#if canImport(Glibc)
    import Glibc
#endif

/// Tells the agent the moment anyone commits to the township's store file — a clerk's
/// `sunshine ballot add` in another process included — so that a new ballot leaves for the county
/// within milliseconds instead of at the next poll.
///
/// SQLite in WAL mode appends every commit to `NAME-wal` beside the store, so on Linux the watcher
/// asks inotify for writes to that file (watching the directory, so the WAL file may come and go).
/// The agent's own writes wake it too; that costs one empty outbox read. Where inotify is missing
/// (another OS, a store not on a file), ``start(path:onChange:)`` returns nil and the agent keeps
/// its periodic look at the outbox.
///
/// `@unchecked Sendable`: its one stored property is a dispatch source, which may be cancelled
/// from any thread.
final class StoreWatcher: @unchecked Sendable {
    #if os(Linux)
        private let source: any DispatchSourceRead

        private init(source: any DispatchSourceRead) {
            self.source = source
        }

        /// Starts watching the store at `path`; `onChange` runs on a private queue after each write.
        static func start(path: String, onChange: @escaping @Sendable () -> Void) -> StoreWatcher? {
            let url = URL(fileURLWithPath: path)
            let directory = url.deletingLastPathComponent().path
            let names: Set<String> = [url.lastPathComponent, url.lastPathComponent + "-wal"]
            let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
            guard descriptor >= 0 else { return nil }
            let mask = UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)
            guard inotify_add_watch(descriptor, directory, mask) >= 0 else {
                close(descriptor)
                return nil
            }
            let source = DispatchSource.makeReadSource(
                fileDescriptor: descriptor, queue: DispatchQueue(label: "sunshine.store-watcher"))
            source.setEventHandler {
                if Self.drain(descriptor, names: names) { onChange() }
            }
            source.setCancelHandler { close(descriptor) }
            source.resume()
            return StoreWatcher(source: source)
        }

        /// Reads every pending event; whether one of them is about the store's files.
        private static func drain(_ descriptor: Int32, names: Set<String>) -> Bool {
            var relevant = false
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { return relevant }
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let length = buffer.withUnsafeBytes { raw in
                        Int(raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self).len)
                    }
                    if length > 0, offset + header + length <= count {
                        let nameBytes = buffer[(offset + header)..<(offset + header + length)].prefix { $0 != 0 }
                        if names.contains(String(decoding: nameBytes, as: UTF8.self)) { relevant = true }
                    }
                    offset += header + length
                }
            }
        }

        /// Stops watching.
        func stop() {
            source.cancel()
        }
    #else
        static func start(path: String, onChange: @escaping @Sendable () -> Void) -> StoreWatcher? { nil }
        func stop() {}
    #endif
}
