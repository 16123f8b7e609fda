import Foundation
import SunshineModel
import SunshineStore
import SunshineTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `sunshine` binary as a county: a coordinator and township agents as separate
/// processes, clerks recording with `sunshine ballot add` while the coordinator's database is
/// locked by another program past its busy timeout, the coordinator and an agent killed with
/// SIGKILL and started again as a service manager would, and an agent stopped with SIGSTOP. No
/// agent is restarted by hand; afterwards every ballot whose `ballot add` exited 0 is at the
/// coordinator exactly once and every outbox is empty.
@Suite(.serialized, .timeLimit(.minutes(5))) struct RealProcessTests {
    @Test func aCountyOfProcessesLosesNothingUnderLocksKillsAndStops() async throws {
        let root = NSTemporaryDirectory() + "sunshine-processes-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let townships = ["township-01", "township-02", "township-03"]
        #expect(try runProcess(SunshineExecutable.path, ["certs", "init", "--out", root + "/pki", "--townships", "3"]).status == 0)
        let port = try freePort()
        let endpoint = "127.0.0.1:\(port)"
        let coordinator = NodeProcess(
            name: "coordinator",
            arguments: ["coordinator", "--listen", endpoint, "--pki", root + "/pki", "--data", root + "/county", "--heartbeat-ms", "500"],
            logDirectory: root
        )
        let agents = townships.map { township in
            NodeProcess(
                name: township,
                arguments: ["agent", "--node", township, "--coordinator", endpoint, "--pki", root + "/pki", "--data", root + "/\(township)"],
                logDirectory: root
            )
        }
        defer {
            for process in [coordinator] + agents { process.signal(SIGCONT); process.kill9() }
        }
        try coordinator.start()
        try await waitFor("the coordinator listens") { coordinator.output.contains("listening on") }
        for agent in agents { try agent.start() }

        // Clerks record throughout, each `ballot add` a process of its own.
        let recorded = Recorded()
        let clerks = Task {
            for serial in 1...40 {
                for township in townships {
                    let result = try await offThePool { try runProcess(SunshineExecutable.path, [
                        "ballot", "add", "--node", township, "--data", root + "/\(township)", "--contest", "committee-\(township)",
                        "--round", "vote-1", "--station", "s01", "--serial", "\(serial)", "--choice", "cand-01",
                    ]) }
                    if result.status == 0 {
                        recorded.add(Ballot(contest: "committee-\(township)", round: "vote-1", station: "s01", serial: Int64(serial), choices: ["cand-01"]).key(township: township))
                    } else {
                        recorded.refused("\(township) serial \(serial), exit \(result.status): \(result.output)")
                    }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        // Another program holds the coordinator's database past its 10 s busy timeout, by 6 s, so
        // that some push's commit falls in that window even on a loaded machine.
        try await Task.sleep(for: .seconds(1))
        let lock = try runProcessInBackground("python3", ["-c", """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            db.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            time.sleep(16)
            db.execute("ROLLBACK")
            """, root + "/county/coordinator.sqlite"])
        try await Task.sleep(for: .seconds(17))
        lock.waitUntilExit()

        // kill -9 of the coordinator and of an agent, both started again as systemd would.
        coordinator.kill9()
        agents[1].kill9()
        try await Task.sleep(for: .milliseconds(500))
        try coordinator.start()
        try agents[1].start()

        // One agent is stopped for a few seconds: its connection times out, and it comes back by itself.
        agents[2].signal(SIGSTOP)
        try await Task.sleep(for: .seconds(4))
        agents[2].signal(SIGCONT)

        try await clerks.value
        let keys = recorded.keys
        #expect(keys.count == 120, "every clerk's command exited 0 (the township's own store is always writable): \(recorded.refusals)")

        // Every ballot that was recorded reaches the coordinator exactly once, and every outbox empties.
        try await waitFor("every outbox is empty", seconds: 90) {
            for township in townships {
                let store = try SQLiteStore(path: root + "/\(township)/\(township).sqlite", node: township)
                let unsent = try await store.read { try $0.outboxCount(of: township, after: try $0.checkpoint("acked")) }
                if unsent > 0 { return false }
            }
            return true
        }
        let county = try SQLiteStore(path: root + "/county/coordinator.sqlite", node: "coordinator")
        let versions = try await county.read { reader in
            try reader.changes(after: 0, for: nil, limit: 1_000_000).filter { $0.record.kind == .ballot }.map(\.record.key)
        }
        #expect(Set(versions) == keys, "the coordinator holds exactly the recorded ballots")
        #expect(versions.count == keys.count, "each exactly once")
        for agent in agents { #expect(agent.isRunning, "\(agent.name) kept running on its own: \(agent.output.suffix(500))") }
        #expect(agents.contains { $0.output.contains("busy") }, "the lock really made the coordinator's commits fail")
    }
}

/// Processes opening a township's store at once — an agent starting as clerks record their first
/// papers — all succeed, on one store with one identity.
@Suite(.timeLimit(.minutes(2))) struct ConcurrentOpenTests {
    @Test func clerksCreatingANewStoreAtOnceAllSucceed() async throws {
        for round in 0..<3 {
            let directory = NSTemporaryDirectory() + "sunshine-open-\(round)-" + UUID().uuidString
            let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
                for serial in 1...8 {
                    group.addTask {
                        try await offThePool { try runProcess(SunshineExecutable.path, [
                            "ballot", "add", "--node", "township-01", "--data", directory, "--contest", "c", "--round", "vote-1",
                            "--station", "s01", "--serial", "\(serial)", "--choice", "a",
                        ]) }
                    }
                }
                return try await group.reduce(into: [(Int32, String)]()) { $0.append($1) }
            }
            for (status, output) in results { #expect(status == 0, "\(output)") }
            let store = try SQLiteStore(path: directory + "/township-01.sqlite", node: "township-01")
            #expect(try await store.read { try $0.currentValues(kind: .ballot) }.count == 8)
        }
    }
}

/// The ballot keys whose `ballot add` succeeded, and what the others said.
private final class Recorded: @unchecked Sendable {
    private var set: Set<String> = []
    private var failures: [String] = []
    private let lock = NSLock()
    func add(_ key: String) { lock.withLock { _ = set.insert(key) } }
    func refused(_ failure: String) { lock.withLock { failures.append(failure) } }
    var keys: Set<String> { lock.withLock { set } }
    var refusals: [String] { lock.withLock { failures } }
}

/// A port nothing listens on now.
private func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var size = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, size) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &size) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

private func runProcessInBackground(_ executable: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    try process.run()
    return process
}

private func waitFor(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    Issue.record("timed out waiting until \(what)")
    throw CancellationError()
}
