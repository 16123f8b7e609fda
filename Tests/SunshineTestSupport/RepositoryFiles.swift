import Foundation

/// Paths inside this repository, for tests that use its published files (schemas, scripts).
public enum RepositoryFiles {
    /// The repository root, found from this source file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SunshineTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    public static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }
}

/// Runs a program to completion (killing it after `timeout`) and returns its exit status and
/// combined output.
public func runProcess(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    watchdog.cancel()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// Runs `blocking` on a thread of its own, so that waiting — for a child process, a lock, threads
/// racing — never holds one of the few threads (two on a 2-core machine) that every test's
/// coordinator and agents run their tasks on.
public func offThePool<T: Sendable>(_ blocking: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try blocking() }) }
    }
}
