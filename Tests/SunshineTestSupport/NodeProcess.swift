import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `sunshine` process a test runs and kills like an operating system would: started with its
/// output in a log file, stopped with SIGKILL or SIGSTOP, always killed when the test is done.
public final class NodeProcess: @unchecked Sendable {
    public let name: String
    public let arguments: [String]
    public let log: String
    private var process: Process?
    private let lock = NSLock()

    public init(name: String, arguments: [String], logDirectory: String) {
        self.name = name
        self.arguments = arguments
        self.log = logDirectory + "/\(name).log"
    }

    /// Starts the process (again), appending to its log.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SunshineExecutable.path)
        process.arguments = arguments
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { self.process = process }
    }

    public var pid: Int32? { lock.withLock { process?.processIdentifier } }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Sends `signal` (SIGKILL, SIGSTOP, SIGCONT, SIGTERM).
    public func signal(_ signal: Int32) {
        if let pid { kill(pid, signal) }
    }

    /// kill -9, and waits until it is gone.
    public func kill9() {
        guard let process = lock.withLock({ self.process }) else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The process's log so far.
    public var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
