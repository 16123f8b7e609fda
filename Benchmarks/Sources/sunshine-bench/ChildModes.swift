import Foundation
import SunshineCoordinator
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineTownship
import Synchronization

/// The processes a scenario starts beside itself, as modes of this executable.
enum ChildMode {
    /// `serve-coordinator PKI DATA [HEARTBEAT_MS]`: a coordinator over a SQLite store, as
    /// `sunshine coordinator` runs it; prints `port N` once listening, runs until SIGTERM.
    static func serveCoordinator(_ arguments: [String]) async throws {
        guard arguments.count >= 2 else { throw BenchError("serve-coordinator PKI DATA [HEARTBEAT_MS]") }
        let pki = BenchPKI(existing: arguments[0])
        let store = try SQLiteStore(path: arguments[1], node: "coordinator")
        var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: 0))
        if arguments.count > 2, let ms = Int64(arguments[2]) { configuration.rpc.heartbeat = .milliseconds(ms) }
        configuration.limits.established = 8_192
        configuration.limits.pending = 2_048
        configuration.limits.pendingPerAddress = 2_048
        let service = CoordinatorService(
            configuration: configuration, tls: try ClusterTLS.serverContext(pki.credentials("coordinator")),
            store: store,
            logger: quietLogger("bench.coordinator")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            let address = try await service.server.localAddress()
            emit("port \(address.port ?? 0)")
            try await group.next()
        }
    }

    /// `write-ballots DIR PREFIX TOWNSHIPS RATE SECONDS FIRST`: each township's clerk records RATE ballots a second
    /// for SECONDS through ``Township/record(_:)`` — the path of `sunshine ballot add` — into
    /// `DIR/PREFIX-NODE.sqlite`, serials from FIRST, and prints `NODE SEQ NANOS` once each commit returned.
    static func clerk(_ arguments: [String]) async throws {
        guard arguments.count == 6, let townships = Int(arguments[2]), let rate = Double(arguments[3]),
            let duration = Double(arguments[4]), let first = Int(arguments[5])
        else { throw BenchError("write-ballots DIR PREFIX TOWNSHIPS RATE SECONDS FIRST") }
        let nodes = NodeName.townships(townships)
        let offices = try nodes.map { node in
            Township(store: try SQLiteStore(path: "\(arguments[0])/\(arguments[1])-\(node).sqlite", node: node))
        }
        let count = Int(rate * duration)
        let interval = UInt64(1e9 / rate)
        emit("ready")
        let start = monotonicNanos() + 20_000_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, office) in offices.enumerated() {
                // Townships start spread over one interval, as offices would.
                let offset = interval * UInt64(index) / UInt64(offices.count)
                group.addTask {
                    for n in 0..<max(count, 1) {
                        let serial = first + n
                        let due = start + offset + UInt64(n) * interval
                        let now = monotonicNanos()
                        if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
                        try await office.record(Papers.ballot(serial, township: office.node))
                        let committed = monotonicNanos()
                        let seq = try await office.store.read { try $0.latestSeq() }
                        // One write(2) of a short line: whole, even from several tasks at once.
                        emit("\(office.node) \(seq) \(committed)")
                    }
                }
            }
            try await group.waitForAll()
        }
        emit("done")
    }
}

/// Writes one line to standard output at once (the parent reads it as it comes).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension BenchPKI {
    /// A PKI directory another process of this run created.
    init(existing path: String) {
        directory = PKIDirectory(path: path)
    }
}
