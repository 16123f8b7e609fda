import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SunshineAgent
import SunshineTownship
import SunshineCoordinator
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineWire

/// A county on this machine: certificates, a coordinator and township agents on loopback, each
/// with its own SQLite store, recording and syncing ballots and findings — with one township
/// going offline, editing a finding the county edits too, and catching up.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a county on this machine: a coordinator and township agents on loopback recording and syncing ballots and findings."
    )

    @Option(help: "Directory for the demo's certificates and databases (its data/ is started afresh).")
    var dir = "county"

    @Option(help: "How many township agents to run (1–17).")
    var townships = 3

    @Option(help: "Ballots each township records per round.")
    var ballots = 40

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...17).contains(townships) else { throw ValidationError("--townships must be between 1 and 17.") }
        guard (1...10_000).contains(ballots) else { throw ValidationError("--ballots must be between 1 and 10000.") }
    }

    func run() async throws {
        try LoggingOptions.bootstrap(Settings(logging), default: .error)
        let pki = PKIDirectory(path: (dir as NSString).appendingPathComponent("pki"))
        if FileManager.default.fileExists(atPath: pki.caCertificatePath) {
            say("Using the certificates in \(pki.path).")
        } else {
            _ = try pki.initialize(townships: 17, coordinatorHosts: ["localhost", "127.0.0.1"])
            say("Created a cluster CA and certificates for the coordinator, 17 townships and an operator in \(pki.path).")
        }
        let data = (dir as NSString).appendingPathComponent("data")
        try? FileManager.default.removeItem(atPath: data)
        func store(_ node: String) throws -> SQLiteStore {
            try SQLiteStore(path: "\(data)/\(node).sqlite", node: node)
        }
        let names = NodeName.townships(townships)
        let stores = try Dictionary(uniqueKeysWithValues: names.map { ($0, try store($0)) })

        // 1. Offline: every township records ballots and a finding before any network exists.
        var random = SystemRandomNumberGenerator()
        for township in names {
            let office = Township(store: stores[township]!)
            for serial in 1...ballots {
                let choices = Array(Self.candidates.map(\.id).shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random)))
                try await office.record(Ballot(contest: Self.contest(township), round: "vote-1", station: "s01", serial: Int64(serial), choices: choices, valid: serial % 25 != 0))
            }
            try await office.write(Finding(team: "team-\(township.suffix(2))", category: "procedure", severity: .medium, status: .open,
                                           title: "Ballot box seal checked at opening", details: "Seal intact; number recorded."), id: "seal-check")
        }
        say("\nOffline, \(townships) townships recorded \(ballots) ballots each and one finding, in their own stores under \(data)/.")

        // 2. The coordinator starts; the county publishes the contest.
        var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: 0))
        configuration.rpc.heartbeat = .milliseconds(1_000)
        let coordinator = CoordinatorService(
            configuration: configuration,
            tls: try ClusterTLS.serverContext(NodeCredentials(pki: pki, node: "coordinator")),
            store: try store("coordinator")
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await coordinator.run() }
            let port = try await coordinator.server.localAddress().port ?? 0
            let endpoint = Endpoint(host: "127.0.0.1", port: port)
            say("Coordinator listening on \(endpoint) (TLS 1.3, client certificates required).")
            // 3. The agents connect and sync; township-01 will later go offline on its own.
            func agent(_ township: String) throws -> AgentService {
                AgentService(
                    configuration: .init(node: township, coordinator: endpoint),
                    tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki, node: township)),
                    store: stores[township]!
                )
            }
            let first = names[0]
            let others = try names.dropFirst().map(agent)
            tasks.addTask { try await withThrowingDiscardingTaskGroup { group in for agent in others { group.addTask { try await agent.run() } } } }
            let firstService = try agent(first)
            let firstStart = Task { try await firstService.run() }
            // The county's operator works over RPC with the operator certificate, like the CLI does.
            try await RPCClient.withConnection(
                to: endpoint,
                tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki, node: "operator")),
                hello: HelloParams(node: "operator", role: .operator, software: "sunshine-demo")
            ) { county, _ in
            var firstAgent = firstStart
            for township in names {
                _ = try await county.call(Method.put, params: PutParams(kind: "contest", key: Contest.key(Self.contest(township)), data: Self.contestData(township)), returning: VersionResult.self)
            }
            say("The operator published a contest for each township's election (\(Self.contest(names[0])), …).")

            try await waitForOutboxes(names, stores)
            try await printStatus(county, "\nEvery outbox drained. What the coordinator sees:")

            // 4. township-01 goes offline, keeps working; the county edits the same finding meanwhile.
            firstAgent.cancel()
            _ = await firstAgent.result
            let key = "finding/\(first)/seal-check"
            let office = Township(store: stores[first]!)
            try await office.write(Finding(team: "team-01", category: "procedure", severity: .high, status: .investigating,
                                           title: "Ballot box seal checked at opening", details: "Seal number differs from the log.",
                                           notes: ["Photographed the seal."]), id: "seal-check")
            for serial in (ballots + 1)...(ballots + 10) {
                try await office.record(Ballot(contest: Self.contest(first), round: "vote-1", station: "s02", serial: Int64(serial), choices: ["cand-01"]))
            }
            _ = try await county.call(Method.put, params: PutParams(kind: "finding", key: key, data: Finding(
                team: "team-01", category: "procedure", severity: .medium, status: .resolved, title: "Ballot box seal checked at opening",
                details: "County inspector confirmed the seal.", notes: ["County visit at 10:40."]).json), returning: VersionResult.self)
            say("\n\(first) went offline, recorded 10 more ballots and edited \(key); the county edited the same finding meanwhile.")
            firstAgent = Task { try await firstService.run() }
            try await waitForOutboxes([first], stores)
            let conflicts = try await county.call(Method.conflicts, params: EmptyResult(), returning: ConflictsResult.self).conflicts
            say("\(first) reconnected and caught up. Open conflicts: \(conflicts.count)")
            for conflict in conflicts {
                say("  \(conflict.key) [\(conflict.reason)]: \(conflict.siblings.count) versions kept; everyone shows status \(conflict.current["data"]?["status"]?.stringValue ?? "?"), severity \(conflict.current["data"]?["severity"]?.stringValue ?? "?") meanwhile")
            }

            // 5. An operator resolves it; the resolution reaches the township.
            let resolution = Finding(team: "team-01", category: "procedure", severity: .high, status: .investigating, title: "Ballot box seal checked at opening",
                                     details: "Seal number differs from the log; county and township investigate together.", notes: ["Photographed the seal.", "County visit at 10:40."])
            let answer = try await county.call(Method.resolve, params: ResolveParams(key: key, data: resolution.json), returning: VersionResult.self)
            let resolved = try Record(json: answer.record)
            try await waitUntil { try await stores[first]!.read { try $0.current(of: key) }?.siblings == [resolved] }
            let remaining = try await county.call(Method.conflicts, params: EmptyResult(), returning: ConflictsResult.self).conflicts.count
            say("Resolved by the county with clock \(resolved.clock); \(first) holds the same single version, conflicts now: \(remaining).")

            try await printTally(county, expected: names.count * ballots + 10)
            try await printStatus(county, "\nFinal status:")
            firstAgent.cancel()
            _ = await firstAgent.result
            }
            tasks.cancelAll()
        }
        say("\nDone. The stores stay in \(data)/ for a look with sqlite3.")
    }

    // MARK: Sample data

    static func contest(_ township: String) -> String { "committee-2026-\(township)" }
    static let candidates = (1...6).map { Contest.Candidate(id: String(format: "cand-%02d", $0), name: ["Li Wei", "Wang Fang", "Zhang Min", "Liu Yang", "Chen Jing", "Zhao Lei"][$0 - 1]) }
    static func contestData(_ township: String) -> JSONValue {
        Contest(title: "Township party committee", township: township, seats: 3, rounds: ["rec-1", "rec-2", "vote-1", "vote-2"], candidates: candidates).json
    }

    // MARK: Helpers

    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private func waitForOutboxes(_ names: [String], _ stores: [String: SQLiteStore]) async throws {
        try await waitUntil {
            for name in names where try await Township(store: stores[name]!).outbox().unsent > 0 { return false }
            return true
        }
    }

    private func waitUntil(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CommandFailure("The demo did not converge within 60 s; run it with --log-level info to see why.") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private func printStatus(_ county: RPCConnection, _ title: String) async throws {
        let status = try await county.call(Method.status, params: EmptyResult(), returning: StatusResult.self)
        say(title)
        say("  township      online  checkpoint  ballots  findings  conflicts")
        for row in status.townships {
            say("  \(pad(row.node, 13)) \(pad(row.online ? "yes" : "no", 7)) \(pad(String(row.checkpoint), 11)) \(pad(String(row.ballots), 8)) \(pad(String(row.findings), 9)) \(row.conflicts)")
        }
        let totals = status.totals
        say("  total: \(totals.ballots) ballots, \(totals.findings) findings, \(totals.contests) contest, \(totals.openConflicts) open conflicts, \(totals.quarantined) quarantined")
    }

    private func printTally(_ county: RPCConnection, expected: Int) async throws {
        let rounds = try await county.call(Method.tally, params: TallyParams(round: "vote-1"), returning: TallyResult.self).rounds
        say("\nTally of round vote-1 in \(rounds.count) townships' elections:")
        for round in rounds {
            let leader = round.candidates.max { $0.votes < $1.votes }
            say("  \(pad(round.contest, 32)) \(round.valid) valid, \(round.invalid) invalid, \(round.quarantined) quarantined; most votes: \(leader.map { "\($0.name) (\($0.votes))" } ?? "none")")
        }
        let counted = rounds.reduce(0) { $0 + $1.valid + $1.invalid + $1.quarantined }
        say("  \(counted) of the \(expected) ballots recorded")
    }

    private func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
}
