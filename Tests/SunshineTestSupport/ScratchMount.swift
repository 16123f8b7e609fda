import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small tmpfs mounted for one test — a disk that fills up after a few hundred KiB, or a
/// directory no one may write — and unmounted when the value goes away. Mounting needs root.
public final class ScratchMount: Sendable {
    public let path: String

    /// Whether this process may mount one (it runs as root).
    public static var isAvailable: Bool { geteuid() == 0 }

    public init(sizeKiB: Int, readOnly: Bool = false) throws {
        path = NSTemporaryDirectory() + "sunshine-mount-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let options = "size=\(sizeKiB)k" + (readOnly ? ",ro" : "")
        let result = try runProcess("mount", ["-t", "tmpfs", "-o", options, "tmpfs", path])
        guard result.status == 0 else { throw MountFailure(output: result.output) }
    }

    /// Writes zeros into `DIR/filler` until the disk refuses more, and returns the bytes left free.
    @discardableResult
    public func fill() -> Int64 {
        let descriptor = open(path + "/filler", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { return -1 }
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0, count: 4096)
        for size in [4096, 512, 1] {
            while true {
                let written = block.withUnsafeBytes { write(descriptor, $0.baseAddress, size) }
                if written > 0 { continue }
                if written < 0 && errno == EINTR { continue }
                break
            }
        }
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return -1 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Frees what ``fill()`` took.
    public func free() {
        try? FileManager.default.removeItem(atPath: path + "/filler")
    }

    deinit {
        _ = try? runProcess("umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    struct MountFailure: Error, CustomStringConvertible {
        var output: String
        var description: String { "mount failed: \(output)" }
    }
}
