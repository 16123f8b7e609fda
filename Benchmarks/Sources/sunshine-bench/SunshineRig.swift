import Foundation
import Logging
import NIOSSL
import SunshineAgent
import SunshineCoordinator
import SunshineCounty
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineTownship
import SunshineWire
import Synchronization

/// Loggers for Sunshine's services during a run: only errors, so logging costs nothing measurable.
func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .error
    return logger
}

/// A coordinator in this process, on a free loopback port, over `store`.
struct LocalCoordinator: Sendable {
    let service: CoordinatorService
    let port: Int
    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    /// Runs a coordinator for the duration of `body`.
    static func with<T: Sendable>(
        store: any ReplicaStore, pki: BenchPKI, _ body: @Sendable (LocalCoordinator) async throws -> T
    ) async throws -> T {
        let service = CoordinatorService(
            configuration: RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: 0)),
            tls: try ClusterTLS.serverContext(pki.credentials("coordinator")),
            store: store,
            logger: quietLogger("bench.coordinator")
        )
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { try await service.run() }
            defer { group.cancelAll() }
            let address = try await service.server.localAddress()
            return try await body(LocalCoordinator(service: service, port: address.port ?? 0))
        }
    }
}

/// What one agent reported: when it connected, and each acknowledged push (its `upto` and when).
final class AgentLog: Sendable {
    private struct State {
        var connected: UInt64?
        var acks: [(upto: Int64, at: UInt64)] = []
        var waiters: [(upto: Int64, continuation: CheckedContinuation<Void, Never>)] = []
        var connectWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func record(_ event: AgentService.Event) {
        let now = monotonicNanos()
        var resume: [CheckedContinuation<Void, Never>] = []
        state.withLock { state in
            switch event {
            case .connected:
                if state.connected == nil { state.connected = now }
                resume = state.connectWaiters
                state.connectWaiters = []
            case .synced(.pushed(let upto, _, _, _, _)):
                state.acks.append((upto, now))
                let ready = state.waiters.filter { $0.upto <= upto }
                state.waiters.removeAll { $0.upto <= upto }
                resume = ready.map(\.continuation)
            default:
                break
            }
        }
        for continuation in resume { continuation.resume() }
    }

    var connectedAt: UInt64? { state.withLock { $0.connected } }
    var acks: [(upto: Int64, at: UInt64)] { state.withLock { $0.acks } }
    var ackedUpto: Int64 { state.withLock { $0.acks.map(\.upto).max() ?? 0 } }

    /// The first moment a push acknowledged `seq` or later.
    func ackTime(covering seq: Int64) -> UInt64? {
        state.withLock { $0.acks.first { $0.upto >= seq }?.at }
    }

    func waitConnected() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.connected != nil { return true }
                state.connectWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Returns once a push acknowledged `upto` or later.
    func waitAcked(_ upto: Int64) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.acks.contains(where: { $0.upto >= upto }) { return true }
                state.waiters.append((upto, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// Waits for `body`, failing after `timeout` seconds.
func within<T: Sendable>(_ timeout: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(timeout))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw BenchError("\(what) did not finish within \(Int(timeout)) s")
        }
        return value
    }
}

/// Runs township agents (``AgentService``) for the duration of `body`.
func withAgents<T: Sendable>(
    _ agents: [(node: String, store: any ReplicaStore)], coordinator: Endpoint, pki: BenchPKI,
    configure: @Sendable (inout AgentService.Configuration) -> Void = { _ in },
    _ body: @Sendable ([AgentLog]) async throws -> T
) async throws -> T {
    let logs = agents.map { _ in AgentLog() }
    var services: [AgentService] = []
    for (index, agent) in agents.enumerated() {
        var configuration = AgentService.Configuration(node: agent.node, coordinator: coordinator)
        configure(&configuration)
        let log = logs[index]
        services.append(
            AgentService(
                configuration: configuration, tls: try ClusterTLS.clientContext(pki.credentials(agent.node)),
                store: agent.store,
                logger: quietLogger("bench.agent"), events: { log.record($0) }
            ))
    }
    let running = services
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        for service in running { group.addTask { try await service.run() } }
        defer { group.cancelAll() }
        return try await body(logs)
    }
}

/// An operator's or agent's connection to a coordinator for the duration of `body`.
func withClient<T: Sendable>(
    node: String, role: NodeRole, to endpoint: Endpoint, pki: BenchPKI, store: String? = nil,
    _ body: @Sendable (RPCConnection) async throws -> T
) async throws -> T {
    try await RPCClient.withConnection(
        to: endpoint, tls: try ClusterTLS.clientContext(pki.credentials(node)),
        hello: HelloParams(node: node, role: role, software: "sunshine-bench", store: store),
        logger: quietLogger("bench.client")
    ) { connection, _ in try await body(connection) }
}

/// A child process of this benchmark (the coordinator of scenarios 5 and 7, the clerks' writer),
/// ended with SIGTERM when the scenario is done.
final class Child: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = Data()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
            process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        }
        process.arguments = arguments
        process.standardOutput = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            self?.take(handle.availableData)
        }
        try process.run()
    }

    private func take(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        partial.append(data)
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial = Data(partial[partial.index(after: newline)...])
        }
    }

    /// The lines the child has printed so far.
    var printed: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits until the child printed a line starting with `prefix`; returns the rest of it.
    func waitForLine(_ prefix: String, timeout: Double = 30) async throws -> String {
        let deadline = monotonicNanos() + UInt64(timeout * 1e9)
        while monotonicNanos() < deadline {
            if let line = printed.first(where: { $0.hasPrefix(prefix) }) { return String(line.dropFirst(prefix.count)) }
            guard process.isRunning else { throw BenchError("the child \(process.arguments ?? []) exited early") }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchError("the child \(process.arguments?.first ?? "") printed no \(prefix) within \(Int(timeout)) s")
    }

    func waitForExit(timeout: Double) async throws {
        let deadline = monotonicNanos() + UInt64(timeout * 1e9)
        while process.isRunning {
            guard monotonicNanos() < deadline else {
                throw BenchError("the child did not exit within \(Int(timeout)) s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        output.fileHandleForReading.readabilityHandler = nil
        take(output.fileHandleForReading.readDataToEndOfFile())
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
    }
}
