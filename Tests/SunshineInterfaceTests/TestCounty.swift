import Foundation
import Logging
import ServiceLifecycle
import SunshineAgent
import SunshineCoordinator
import SunshineCounty
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import SunshineWire
import Synchronization

/// A county for tests that use the `sunshine` binary as a person would: certificates, a
/// coordinator in this process on a loopback port (stoppable and restartable on the same port),
/// township agents that can be started and stopped, and the binary run against them.
final class TestCounty: Sendable {
    let pki: TestPKI
    /// Where every node keeps its store, `DIR/NODE.sqlite`, as `--data DIR` says.
    let data: String
    private let running = Mutex<(coordinator: CoordinatorService, group: ServiceGroup, task: Task<Void, any Error>)?>(
        nil)
    private let port = Mutex(0)
    private let agents = Mutex<[String: Task<Void, any Error>]>([:])

    init(townships: Int = 3) throws {
        pki = try TestPKI(townships: townships)
        data = pki.directory.path + "/data"
    }

    deinit { pki.remove() }

    /// The in-process nodes log only what is critical: the tests read the binary's output, not theirs.
    static let quiet: Logger = {
        var logger = Logger(label: "sunshine.tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Starts the coordinator (on the port it had before, after ``stopCoordinator()``).
    @discardableResult
    func startCoordinator() async throws -> Endpoint {
        let port = self.port.withLock { $0 }
        var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: port))
        configuration.rpc.heartbeat = .milliseconds(2_000)
        let service = CoordinatorService(
            configuration: configuration,
            tls: try ClusterTLS.serverContext(NodeCredentials(pki: pki.directory, node: "coordinator")),
            store: try SQLiteStore(path: "\(data)/coordinator.sqlite", node: "coordinator"), logger: Self.quiet
        )
        // Run as the `sunshine coordinator` command runs it, so that stopping it is the graceful
        // shutdown SIGTERM starts: peers are told `bye` and the listener closes.
        let group = ServiceGroup(services: [service], logger: Self.quiet)
        let task = Task { try await group.run() }
        let address = try await service.server.localAddress()
        self.port.withLock { $0 = address.port ?? 0 }
        running.withLock { $0 = (service, group, task) }
        return endpoint
    }

    func stopCoordinator() async {
        let stopped = running.withLock { $0.take() }
        await stopped?.group.triggerGracefulShutdown()
        _ = await stopped?.task.result
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port.withLock { $0 }) }
    var coordinator: CoordinatorService? { running.withLock { $0?.coordinator } }

    /// Starts `township`'s agent on its store in ``data``.
    func startAgent(_ township: String) throws {
        var configuration = AgentService.Configuration(node: township, coordinator: endpoint)
        configuration.backoff = Backoff(base: .milliseconds(20), cap: .milliseconds(300))
        let agent = AgentService(
            configuration: configuration,
            tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki.directory, node: township)),
            store: try store(township), logger: Self.quiet
        )
        agents.withLock { $0[township] = Task { try await agent.run() } }
    }

    func stopAgent(_ township: String) async {
        let task = agents.withLock { $0.removeValue(forKey: township) }
        task?.cancel()
        _ = await task?.result
    }

    func stopAll() async {
        for township in agents.withLock({ Array($0.keys) }) { await stopAgent(township) }
        await stopCoordinator()
    }

    func store(_ node: String) throws -> SQLiteStore {
        try SQLiteStore(path: "\(data)/\(node).sqlite", node: node)
    }

    /// `--pki DIR --coordinator HOST:PORT`: what every operator command is given.
    var operatorFlags: [String] { ["--pki", pki.directory.path, "--coordinator", "\(endpoint)"] }

    /// `--node TOWNSHIP --data DIR`: what every clerk command is given.
    func clerk(_ township: String) -> [String] { ["--node", township, "--data", data] }

    /// Publishes township-NN's contest with the operator's certificate, as `sunshine contest publish` does.
    func publish(_ contest: Contest, id: String) async throws {
        try await RPCClient.withConnection(
            to: endpoint, tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki.directory, node: "operator")),
            hello: HelloParams(node: "operator", role: .operator, software: "tests")
        ) { connection, _ in
            _ = try await connection.call(
                Method.put, params: PutParams(kind: "contest", key: Contest.key(id), data: contest.json),
                returning: VersionResult.self
            )
        }
    }

    /// Waits until `township`'s outbox is empty and it has told the coordinator so.
    func waitUntilSent(_ township: String) async throws {
        let office = Township(store: try store(township))
        try await eventually("\(township)'s outbox is empty") { try await office.outbox().unsent == 0 }
        // Its next heartbeat tells the coordinator, which closes its rounds only after that.
        let session = AgentSession(node: township, store: try await office.store.read { try $0.identity().storeID })
        try await eventually("\(township) reported an empty outbox") { self.coordinator?.county.presence.hasCaughtUp(session) == true }
    }
}

/// What a run of the binary printed and how it ended.
struct Run: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }

    /// Decodes standard output as JSON.
    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(stdout.utf8))
    }

    /// Whether the output is free of what a person must never see: a Swift crash, a stack trace, raw SQL.
    var isClean: Bool {
        let all = stdout + stderr
        return !["Fatal error", "Stack dump", ".swift:", "SQLITE_", "DatabaseError", "NIOSSL", "Error Domain"].contains
        { all.contains($0) }
    }
}

/// Runs `sunshine ARGUMENTS`, with `input` as standard input, and waits for it (killing it after `timeout`).
func sunshine(_ arguments: [String], input: String? = nil, timeout: TimeInterval = 60) async throws -> Run {
    try await offThePool { try runSunshine(arguments, input: input, timeout: timeout) }
}

private func runSunshine(_ arguments: [String], input: String?, timeout: TimeInterval) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: SunshineExecutable.path)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "NO_COLOR")
    for (name, _) in environment where name.hasPrefix("SUNSHINE_") { environment.removeValue(forKey: name) }
    process.environment = environment
    let out = NSTemporaryDirectory() + "sunshine-run-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: out + ".out", contents: nil)
    FileManager.default.createFile(atPath: out + ".err", contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: out + ".out")
        try? FileManager.default.removeItem(atPath: out + ".err")
    }
    process.standardOutput = FileHandle(forWritingAtPath: out + ".out")
    process.standardError = FileHandle(forWritingAtPath: out + ".err")
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    process.waitUntilExit()
    watchdog.cancel()
    return Run(
        status: process.terminationStatus,
        stdout: (try? String(contentsOfFile: out + ".out", encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
    )
}

/// Checks `json` (what a command printed) against `schema` in proto-schemas/ with Python's jsonschema.
func validate(_ json: String, against schema: String) async throws -> (status: Int32, output: String) {
    try await offThePool { try validateNow(json, against: schema) }
}

private func validateNow(_ json: String, against schema: String) throws -> (status: Int32, output: String) {
    let file = NSTemporaryDirectory() + "sunshine-output-\(UUID().uuidString).json"
    try json.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    return try runProcess(
        "python3",
        [
            RepositoryFiles.path("scripts/validate-output.py"), "--schemas", RepositoryFiles.path("proto-schemas"),
            schema, file,
        ]
    )
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(25))
    }
    throw TimedOut(what: what)
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting until \(what)" }
}
