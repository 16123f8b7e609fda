import Foundation
import NIOCore
import NIOSSL
import SunshineAgent
import SunshineCounty
import SunshineModel
import SunshineRPC
import SunshineStore
import SunshineTownship
import SunshineWire

/// How big a run is: `full` is the issue's sizes, `tiny` checks in CI that every scenario runs.
struct Sizes: Sendable {
    var name: String
    var reps: Int
    var pings: Int
    var pushRecords: Int
    var durableRecords: Int
    var catchupRecords: Int
    var catchupReps: Int
    var liveAgents: Int
    var liveRate: Double
    var liveSeconds: Double
    var clerkWrites: Int
    var importRows: Int
    var connections: Int
    var provinceTownships: Int
    var provincePerTownship: Int

    static let full = Sizes(
        name: "full", reps: 5, pings: 2_000, pushRecords: 20_000, durableRecords: 51_200, catchupRecords: 100_000,
        catchupReps: 3,
        liveAgents: 17, liveRate: 20, liveSeconds: 30, clerkWrites: 300, importRows: 100_000, connections: 1_000,
        provinceTownships: 1_000, provincePerTownship: 1_000
    )

    static let tiny = Sizes(
        name: "tiny", reps: 1, pings: 50, pushRecords: 1_000, durableRecords: 1_024, catchupRecords: 2_000,
        catchupReps: 1,
        liveAgents: 3, liveRate: 20, liveSeconds: 2, clerkWrites: 20, importRows: 1_000, connections: 20,
        provinceTownships: 10, provincePerTownship: 100
    )
}

/// Everything a scenario may use.
struct Bench: Sendable {
    let sizes: Sizes
    let scratch: Scratch
    let pki: BenchPKI
    /// The built `sunshine` executable, for the clerk's commands, if one was found.
    let sunshine: String?

    var reps: Int { sizes.reps }

    // MARK: 1. Round trip

    func roundTrip() async throws -> [Row] {
        let request = try OutboundMessage.request(id: 1, method: Method.ping, params: PingParams())
        let answer = try OutboundMessage.response(id: 1, result: EmptyResult())
        let serverTLS = try ClusterTLS.serverContext(pki.credentials("coordinator"))
        let clientTLS = try ClusterTLS.clientContext(pki.credentials("township-01"))
        let raw = try await RawTLSServer.start(tls: serverTLS, answer: answer)
        defer { Task { await raw.stop() } }
        let count = sizes.pings
        let reps = self.reps
        let pki = self.pki
        let samples = try await LocalCoordinator.with(store: InMemoryStore(node: "coordinator"), pki: pki) {
            coordinator in
            try await withClient(node: "township-01", role: .agent, to: coordinator.endpoint, pki: pki) { connection in
                try await GRPCPair.run(pki: pki) { grpc in
                    var sunshine: [Double] = []
                    var rawSamples: [Double] = []
                    var grpcSamples: [Double] = []
                    // Warm-up: every path once, unmeasured.
                    _ = try await Self.pings(connection, count: max(count / 10, 20))
                    _ = try await RawTLSClient.pingPong(
                        port: raw.port, tls: clientTLS, frame: request, count: max(count / 10, 20))
                    _ = try await GRPCPair.unary(grpc, count: max(count / 10, 20))
                    for _ in 0..<reps {
                        sunshine += try await Self.pings(connection, count: count)
                        rawSamples += try await RawTLSClient.pingPong(
                            port: raw.port, tls: clientTLS, frame: request, count: count)
                        grpcSamples += try await GRPCPair.unary(grpc, count: count)
                    }
                    return (sunshine, rawSamples, grpcSamples)
                }
            }
        }
        let bytes = "\(request.readableBytes)-byte request, \(answer.readableBytes)-byte answer"
        return [
            Row(
                scenario: "1 round trip", metric: "ping vs raw NIO TLS ping-pong", unit: "µs", better: .lower,
                sunshine: samples.0,
                baselineName: "raw SwiftNIO TLS 1.3", baseline: samples.1, target: .ratioAtMost(1.5), note: bytes
            ),
            Row(
                scenario: "1 round trip", metric: "ping vs gRPC unary", unit: "µs", better: .lower, sunshine: samples.0,
                baselineName: "grpc-swift 2 unary, mTLS, JSON", baseline: samples.2, target: .ratioAtMost(0.25)
            ),
        ]
    }

    static func pings(_ connection: RPCConnection, count: Int) async throws -> [Double] {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let start = monotonicNanos()
            _ = try await connection.call(Method.ping, params: PingParams(), returning: EmptyResult.self)
            samples.append(Double(monotonicNanos() - start) / 1_000)
        }
        return samples
    }

    // MARK: 2. Pipelined push, in-memory store

    func pipelinedPush() async throws -> [Row] {
        let count = sizes.pushRecords
        let options = TownshipSync.Options()
        let records = (1...count).map { Papers.record($0, township: "township-01", actor: "township-01.0123456789ab") }
        let batch = Array(records.prefix(options.batch))
        let frame = try OutboundMessage.request(
            id: 1, method: Method.push,
            params: PushParams(records: batch.map(\.json), after: 0, upto: Int64(batch.count))
        )
        let answer = try OutboundMessage.response(
            id: 1, result: PushResult(upto: Int64(batch.count), accepted: batch.count))
        let frames = (count + options.batch - 1) / options.batch
        let grpcRecords = records.map(GBallotRecord.init)
        let serverTLS = try ClusterTLS.serverContext(pki.credentials("coordinator"))
        let clientTLS = try ClusterTLS.clientContext(pki.credentials("township-01"))
        let raw = try await RawTLSServer.start(tls: serverTLS, answer: answer)
        defer { Task { await raw.stop() } }
        let pki = self.pki
        var sunshine: [Double] = []
        var rawRates: [Double] = []
        var grpcRates: [Double] = []
        let reps = self.reps
        try await GRPCPair.run(pki: pki) { grpc in
            _ = try await GRPCPair.stream(grpc, records: Array(grpcRecords.prefix(1_000)))
            _ = try await RawTLSClient.pipeline(
                port: raw.port, tls: clientTLS, frame: frame, count: 10, window: options.window)
        }
        _ = try await Self.pushThrough(store: InMemoryStore(node: "coordinator"), count: min(count, 2_000), pki: pki) {
            _ in
        }
        for _ in 0..<reps {
            let time = try await Self.pushThrough(store: InMemoryStore(node: "coordinator"), count: count, pki: pki) {
                _ in
            }
            sunshine.append(Double(count) / time)
            let rawTime = try await RawTLSClient.pipeline(
                port: raw.port, tls: clientTLS, frame: frame, count: frames, window: options.window
            )
            rawRates.append(Double(frames * batch.count) / rawTime)
            let grpcTime = try await GRPCPair.run(pki: pki) { grpc in
                try await GRPCPair.stream(grpc, records: grpcRecords)
            }
            grpcRates.append(Double(count) / grpcTime)
        }
        let size = records.map { $0.canonical.utf8.count }.reduce(0, +) / records.count
        return [
            Row(
                scenario: "2 pipelined push (memory)", metric: "records/s vs raw NIO TLS pipeline", unit: "rec/s",
                better: .higher,
                sunshine: sunshine, baselineName: "raw SwiftNIO TLS, same frames, window \(options.window)",
                baseline: rawRates,
                target: .ratioAtLeast(0.6),
                note:
                    "\(count) ballots of \(size) bytes (canonical JSON), batches of \(options.batch), window \(options.window), "
                    + "\(frame.readableBytes)-byte push frames"
            ),
            Row(
                scenario: "2 pipelined push (memory)", metric: "records/s vs gRPC client streaming", unit: "rec/s",
                better: .higher,
                sunshine: sunshine, baselineName: "grpc-swift 2 client streaming, mTLS, JSON", baseline: grpcRates,
                target: .ratioAtLeast(3)
            ),
        ]
    }

    /// Pushes `count` fresh ballots from an in-memory township store through a real agent and a
    /// coordinator over `store`; the seconds from the agent's connection to the last durable answer.
    static func pushThrough(
        store: any ReplicaStore, count: Int, pki: BenchPKI, township: String = "township-01", first: Int = 1,
        configure: @escaping @Sendable (inout AgentService.Configuration) -> Void
    ) async throws -> Double {
        let agentStore = InMemoryStore(node: township)
        try await Papers.fill(agentStore, township: township, count: count, from: first)
        let latest = try await agentStore.read { try $0.latestSeq() }
        return try await LocalCoordinator.with(store: store, pki: pki) { coordinator in
            try await withAgents(
                [(township, agentStore)], coordinator: coordinator.endpoint, pki: pki, configure: configure
            ) { logs in
                try await within(600, "the push of \(count) ballots") { await logs[0].waitAcked(latest) }
                guard let start = logs[0].connectedAt, let end = logs[0].ackTime(covering: latest) else {
                    throw BenchError("the agent reported no connection")
                }
                return Double(end - start) / 1e9
            }
        }
    }

    // MARK: 3. Durable push

    func durablePush() async throws -> [Row] {
        let count = sizes.durableRecords
        let records = (1...count).map { Papers.record($0, township: "township-01", actor: "township-01.0123456789ab") }
        let rows = records.map { ($0.key, $0.canonical) }
        var sunshine: [Double] = []
        var bare: [Double] = []
        let pki = self.pki
        let batch512: @Sendable (inout AgentService.Configuration) -> Void = { $0.sync.batch = 512; $0.sync.window = 16 }
        let warm = try scratch.directory("s3-warm")
        _ = try await Self.pushThrough(
            store: try SQLiteStore(path: "\(warm)/coordinator.sqlite", node: "coordinator"), count: min(count, 2_048),
            pki: pki,
            configure: batch512
        )
        _ = try BareGRDB(path: "\(warm)/bare.sqlite").insert(Array(rows.prefix(2_048)), perTransaction: 512)
        for rep in 0..<reps {
            let directory = try scratch.directory("s3-\(rep)")
            let store = try SQLiteStore(path: "\(directory)/coordinator.sqlite", node: "coordinator")
            sunshine.append(
                Double(count) / (try await Self.pushThrough(store: store, count: count, pki: pki, configure: batch512)))
            bare.append(
                Double(count) / (try BareGRDB(path: "\(directory)/bare.sqlite").insert(rows, perTransaction: 512)))
        }
        let disk = try scratch.directory("s3-disk")
        let fsyncs = try fsyncLatencies(in: disk, count: 300)
        let commits = try BareGRDB(path: "\(disk)/commits.sqlite").insertOneByOne(Array(rows.prefix(300)))
        return [
            Row(
                scenario: "3 durable push (SQLite)", metric: "records/s, batches of 512, ack after commit",
                unit: "rec/s",
                better: .higher, sunshine: sunshine, baselineName: "bare GRDB, 512 rows/tx, WAL+FULL", baseline: bare,
                target: .ratioAtLeast(0.25), note: "\(count) ballots; both on \(scratch.root)"
            ),
            Row(
                scenario: "3 durable push (SQLite)", metric: "disk: fsync latency", unit: "µs", better: .lower,
                sunshine: fsyncs,
                target: .none, note: "4 KiB appended then fsync, 300 times"
            ),
            Row(
                scenario: "3 durable push (SQLite)", metric: "disk: bare GRDB commits/s (1 row/tx)", unit: "commits/s",
                better: .higher, sunshine: commits.map { 1e6 / $0 }, target: .none
            ),
        ]
    }

    // MARK: 4. Offline catch-up

    func offlineCatchUp() async throws -> [Row] {
        let count = sizes.catchupRecords
        let directory = try scratch.directory("s4")
        let agentStore = try SQLiteStore(path: "\(directory)/township-01.sqlite", node: "township-01")
        try await Papers.fill(agentStore, township: "township-01", count: count)
        let latest = try await agentStore.read { try $0.latestSeq() }
        let records = (1...count).map { Papers.record($0, township: "township-01", actor: "township-01.0123456789ab") }
        let rows = records.map { ($0.key, $0.canonical) }
        let pki = self.pki
        var sunshine: [Double] = []
        var bare: [Double] = []
        for rep in 0..<sizes.catchupReps {
            let coordinatorStore = try SQLiteStore(path: "\(directory)/coordinator-\(rep).sqlite", node: "coordinator")
            let time = try await LocalCoordinator.with(store: coordinatorStore, pki: pki) { coordinator in
                try await withAgents([("township-01", agentStore)], coordinator: coordinator.endpoint, pki: pki) {
                    logs in
                    try await within(600, "the catch-up of \(count) ballots") { await logs[0].waitAcked(latest) }
                    guard let start = logs[0].connectedAt, let end = logs[0].ackTime(covering: latest) else {
                        throw BenchError("the agent reported no connection")
                    }
                    return Double(end - start) / 1e9
                }
            }
            let held = try await coordinatorStore.read { try $0.counts()["township-01"]?[.ballot] ?? 0 }
            guard held == count else {
                throw BenchError("the coordinator holds \(held) of \(count) ballots after catch-up")
            }
            sunshine.append(time)
            bare.append(try BareGRDB(path: "\(directory)/bare-\(rep).sqlite").insert(rows, perTransaction: 512))
        }
        return [
            Row(
                scenario: "4 offline catch-up", metric: "\(count) offline ballots durable after connect", unit: "s",
                better: .lower,
                sunshine: sunshine, baselineName: "bare GRDB inserts, 512/tx (floor)", baseline: bare,
                target: .atMost(3, onP99: false),
                note:
                    "agent defaults (batch \(TownshipSync.Options().batch), window \(TownshipSync.Options().window)); "
                    + "SQLite on both sides; every ballot checked at the coordinator"
            )
        ]
    }

    // MARK: 5. Live county

    func liveCounty() async throws -> [Row] {
        let directory = try scratch.directory("s5")
        let coordinator = try Child(["serve-coordinator", pki.directory.path, "\(directory)/coordinator.sqlite"])
        defer { coordinator.stop() }
        let port = Int(try await coordinator.waitForLine("port ")) ?? 0
        let watched = try await runLive(directory: directory, port: port, label: "watched")
        let polling = try await runLive(directory: directory, port: port, label: "polling", firstSerial: 500_000) {
            $0.watchStore = false
        }
        return watched.rows(scenario: "5 live county", sizes: sizes, polling: polling)
    }

    /// Agents in this process, a coordinator at `port`, and the clerks in another process writing
    /// at the scenario's rate; every ballot's latency from its local commit to the coordinator's
    /// durable acknowledgement.
    func runLive(
        directory: String, port: Int, label: String, firstSerial: Int = 1,
        configure: @escaping @Sendable (inout AgentService.Configuration) -> Void = { _ in }
    ) async throws -> LiveOutcome {
        let nodes = NodeName.townships(sizes.liveAgents)
        let stores: [(node: String, store: any ReplicaStore)] = try nodes.map { node in
            (node, try SQLiteStore(path: "\(directory)/\(label)-\(node).sqlite", node: node))
        }
        let sizes = self.sizes
        let pki = self.pki
        let endpoint = Endpoint(host: "127.0.0.1", port: port)
        let heldBefore = try await Self.ballotsHeld(at: endpoint, of: nodes, pki: pki)
        return try await withAgents(stores, coordinator: endpoint, pki: pki, configure: configure) { logs in
            try await within(60, "\(nodes.count) agents connecting") { for log in logs { await log.waitConnected() } }
            let clerk = try Child([
                "write-ballots", directory, label, String(sizes.liveAgents), String(sizes.liveRate), String(sizes.liveSeconds),
                String(firstSerial),
            ])
            defer { clerk.stop() }
            _ = try await clerk.waitForLine("ready")
            try await clerk.waitForExit(timeout: sizes.liveSeconds + 120)
            guard clerk.process.terminationStatus == 0 else { throw BenchError("the clerks' process failed") }
            var commits: [(node: String, seq: Int64, at: UInt64)] = []
            for line in clerk.printed {
                let parts = line.split(separator: " ")
                guard parts.count == 3, let seq = Int64(parts[1]), let at = UInt64(parts[2]) else { continue }
                commits.append((String(parts[0]), seq, at))
            }
            let index = Dictionary(uniqueKeysWithValues: zip(nodes, logs))
            // Every ballot must reach the coordinator; give the last ones a few seconds.
            let last = Dictionary(commits.map { ($0.node, $0.seq) }, uniquingKeysWith: max)
            _ = try? await within(10, "the last acknowledgements") {
                for (node, seq) in last { await index[node]?.waitAcked(seq) }
            }
            var latencies: [Double] = []
            var lost = 0
            for commit in commits {
                if let acked = index[commit.node]?.ackTime(covering: commit.seq) {
                    latencies.append(Double(Int64(bitPattern: acked &- commit.at)) / 1e6)
                } else {
                    lost += 1
                }
            }
            let heldHere = try await Self.ballotsHeld(at: endpoint, of: nodes, pki: pki) - heldBefore
            return LiveOutcome(latencies: latencies, written: commits.count, lost: lost, held: heldHere)
        }
    }

    /// The ballots a coordinator holds of `nodes`, by its operators' `status`.
    static func ballotsHeld(at endpoint: Endpoint, of nodes: [String], pki: BenchPKI) async throws -> Int {
        let status = try await withClient(node: "operator", role: .operator, to: endpoint, pki: pki) { connection in
            try await connection.call(Method.status, params: EmptyResult(), returning: StatusResult.self)
        }
        return nodes.reduce(0) { sum, node in sum + (status.townships.first { $0.node == node }?.ballots ?? 0) }
    }

    // MARK: 6. Clerk writes

    func clerkWrites() async throws -> [Row] {
        let directory = try scratch.directory("s6")
        let office = Township(store: try SQLiteStore(path: "\(directory)/township-01.sqlite", node: "township-01"))
        let bare = try BareGRDB(path: "\(directory)/bare.sqlite")
        let count = sizes.clerkWrites
        var serial = 1
        var sunshineRates: [Double] = []
        var bareRates: [Double] = []
        var sunshineLatency: [Double] = []
        var bareLatency: [Double] = []
        // Warm-up.
        for _ in 0..<20 {
            try await office.record(Papers.ballot(serial, township: "township-01"))
            serial += 1
        }
        _ = try bare.insertOneByOne((0..<20).map { ("warm-\($0)", "{}") })
        for rep in 0..<reps {
            var samples: [Double] = []
            let start = monotonicNanos()
            for _ in 0..<count {
                let t0 = monotonicNanos()
                try await office.record(Papers.ballot(serial, township: "township-01"))
                samples.append(Double(monotonicNanos() - t0) / 1_000)
                serial += 1
            }
            sunshineRates.append(Double(count) / (Double(monotonicNanos() - start) / 1e9))
            sunshineLatency += samples
            let rows = (0..<count).map { i in
                let record = Papers.record(
                    rep * count + i + 1, township: "township-02", actor: "township-02.0123456789ab")
                return (record.key, record.canonical)
            }
            let bareStart = monotonicNanos()
            bareLatency += try bare.insertOneByOne(rows)
            bareRates.append(Double(count) / (Double(monotonicNanos() - bareStart) / 1e9))
        }
        var result = [
            Row(
                scenario: "6 clerk writes", metric: "ballots/s, one per transaction (Township.record)", unit: "tx/s",
                better: .higher, sunshine: sunshineRates, baselineName: "bare GRDB, 1 row/tx, WAL+FULL",
                baseline: bareRates,
                target: .ratioAtLeast(0.7),
                note: "the command path's transaction in-process: key check, clock, validation, history"
            ),
            Row(
                scenario: "6 clerk writes", metric: "commit latency, one ballot", unit: "µs", better: .lower,
                sunshine: sunshineLatency, baselineName: "bare GRDB, 1 row/tx", baseline: bareLatency, target: .none
            ),
        ]
        result += try await importRows(directory: directory)
        if let cli = try await commandLatency(directory: directory) { result.append(cli) }
        return result
    }

    /// `sunshine ballot import` of a CSV sheet, the whole command: all rows in one transaction.
    func importRows(directory: String) async throws -> [Row] {
        let count = sizes.importRows
        guard let sunshine else { throw BenchError("no `sunshine` executable to import with; build one, or name it with --sunshine") }
        let csv = "\(directory)/import.csv"
        var text = "contest,round,station,serial,choices,valid\n"
        for serial in 1...count {
            let paper = Papers.ballot(serial, township: "township-03")
            text +=
                "\(paper.contest),\(paper.round),\(paper.station),\(paper.serial),\(paper.choices.joined(separator: ";")),"
                + "\(paper.valid)\n"
        }
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        let start = monotonicNanos()
        let run = try runCommand(sunshine, ["ballot", "import", "--node", "township-03", "--data", directory, csv])
        let time = Double(monotonicNanos() - start) / 1e9
        guard run.status == 0 else {
            throw BenchError("`sunshine ballot import` failed: \(run.output.prefix(300))")
        }
        return [
            Row(
                scenario: "6 clerk writes", metric: "`sunshine ballot import` of \(count) rows", unit: "s",
                better: .lower,
                sunshine: [time], target: .atMost(5, onP99: false)
            )
        ]
    }

    /// The whole `sunshine ballot add` command, process start to exit.
    func commandLatency(directory: String) async throws -> Row? {
        guard let sunshine else { return nil }
        var samples: [Double] = []
        for serial in 1...max(min(reps * 4, 20), 3) {
            let start = monotonicNanos()
            let run = try runCommand(
                sunshine,
                [
                    "ballot", "add", "--node", "township-05", "--data", directory, "--contest",
                    "committee-2026-township-05",
                    "--round", "vote-1", "--station", "s01", "--serial", String(serial), "--choice", "cand-01",
                ])
            guard run.status == 0 else { throw BenchError("`sunshine ballot add` failed: \(run.output.prefix(300))") }
            samples.append(Double(monotonicNanos() - start) / 1e6)
        }
        return Row(
            scenario: "6 clerk writes", metric: "`sunshine ballot add`, whole command", unit: "ms", better: .lower,
            sunshine: samples,
            target: .none, note: "process start, open the store, one transaction, exit (\(sunshine))"
        )
    }
}

/// What a live-county run measured.
struct LiveOutcome: Sendable {
    var latencies: [Double]
    var written: Int
    var lost: Int
    var held: Int

    func rows(scenario: String, sizes: Sizes, polling: LiveOutcome? = nil, note: String? = nil) -> [Row] {
        [
            Row(
                scenario: scenario, metric: "local commit → durable ack at the coordinator", unit: "ms", better: .lower,
                sunshine: latencies.isEmpty ? [.infinity] : latencies,
                baselineName: polling.map { _ in "agent polling its outbox every 200 ms (before)" },
                baseline: polling.map { $0.latencies.isEmpty ? [.infinity] : $0.latencies },
                target: .atMost(25, onP99: true),
                note: note
                    ?? "\(sizes.liveAgents) agents × \(Int(sizes.liveRate)) ballots/s for \(Int(sizes.liveSeconds)) s, "
                    + "clerks in another process; \(written) written, \(held) held by the coordinator"
            ),
            Row(
                scenario: scenario, metric: "ballots lost (written − acknowledged)", unit: "ballots", better: .lower,
                sunshine: [Double(lost + max(0, written - held))], target: .atMost(0, onP99: false)
            ),
        ]
    }
}

extension GBallotRecord {
    init(_ record: Record) {
        let data = record.data.objectValue ?? [:]
        self.init(
            key: record.key, kind: record.kind.rawValue, township: record.township,
            clock: Dictionary(uniqueKeysWithValues: record.clock.counters.map { ($0.key, $0.value) }),
            origin: record.origin,
            at: record.at, deleted: record.deleted,
            data: Paper(
                contest: data["contest"]?.stringValue ?? "", round: data["round"]?.stringValue ?? "",
                station: data["station"]?.stringValue ?? "", serial: data["serial"]?.intValue ?? 0,
                choices: data["choices"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                valid: data["valid"]?.boolValue ?? true
            )
        )
    }
}

/// Runs a command to completion; its exit status and combined output.
func runCommand(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
