import ArgumentParser
import Foundation
import SunshineAgent
import SunshineConsole
import SunshineCoordinator
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore
import SunshineTownship
import SunshineWire
import Synchronization

/// A county on this machine, for a newcomer's first minute: certificates, a coordinator and a
/// township agent per township on loopback, each with its own SQLite store, going through what
/// the county meets on election day — and then the dashboard's frame and the tally.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Run a whole county on this machine: a coordinator and 17 township agents on loopback, "
            + "syncing through an election day.",
        discussion: """
            Certificates and stores go to a temporary directory (removed at the end unless --keep or --dir). The demo \
            publishes a contest per township, records ballots everywhere, takes one township offline while it keeps \
            recording, rebuilds another's PC with an empty store, opens and resolves a conflict on a finding, closes a \
            round and quarantines a late ballot — then prints the dashboard and the tally, checked against every \
            ballot recorded. --keep leaves the county running and prints the commands to explore it.
            """
    )

    @Option(help: "Directory for the certificates and stores (its data/ is started afresh); default a temporary one.")
    var dir: String?

    @Option(help: "How many townships (3–17).")
    var townships = 17

    @Option(help: "Ballots each township records in round vote-1.")
    var ballots = 60

    @Flag(help: "Leave the county running at the end, and print the commands to explore it (Ctrl-C stops it).")
    var keep = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (3...17).contains(townships) else { throw ValidationError("--townships must be between 3 and 17.") }
        guard (1...10_000).contains(ballots) else { throw ValidationError("--ballots must be between 1 and 10000.") }
    }

    func run() async throws {
        try LoggingOptions.bootstrap(Settings(logging), default: .error)
        let started = ContinuousClock.now
        let root = dir ?? NSTemporaryDirectory() + "sunshine-demo-" + UUID().uuidString.prefix(8).lowercased()
        let county = try DemoCounty(root: root, townships: NodeName.townships(townships), ballots: ballots) { line in
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            Output.say(String(format: "[%5.1fs] ", seconds) + line)
        }
        Output.say("Sunshine demo: a county of \(townships) townships on this machine, in \(root).")
        try await county.run(keep: keep)
        if dir == nil && !keep { try? FileManager.default.removeItem(atPath: root) }
        let elapsed = ContinuousClock.now - started
        Output.say(
            "Done in \(elapsed.components.seconds) s\(keep ? "" : "; `sunshine demo --keep` leaves the county running to explore")."
        )
    }
}

/// The county the demo runs: its PKI and stores under one directory, the coordinator, and the
/// agents, each of which can be taken offline and brought back.
private final class DemoCounty: Sendable {
    let pki: PKIDirectory
    let data: String
    let names: [String]
    let ballots: Int
    let say: @Sendable (String) -> Void
    /// Whether the certificates were made by this run (else a `--dir` given again had them).
    let madeCertificates: Bool
    private let stores: Mutex<[String: SQLiteStore]>
    private let agents = Mutex<[String: Task<Void, any Error>]>([:])

    init(root: String, townships names: [String], ballots: Int, say: @escaping @Sendable (String) -> Void) throws {
        pki = PKIDirectory(path: (root as NSString).appendingPathComponent("pki"))
        data = (root as NSString).appendingPathComponent("data")
        self.names = names
        self.ballots = ballots
        self.say = say
        madeCertificates = !FileManager.default.fileExists(atPath: pki.caCertificatePath)
        if madeCertificates { _ = try pki.initialize(townships: 17, coordinatorHosts: ["localhost", "127.0.0.1"]) }
        let data = self.data
        try? FileManager.default.removeItem(atPath: data)
        stores = Mutex(
            try Dictionary(
                uniqueKeysWithValues: names.map { ($0, try SQLiteStore(path: "\(data)/\($0).sqlite", node: $0)) }))
    }

    func store(_ township: String) -> SQLiteStore { stores.withLock { $0[township]! } }
    func office(_ township: String) -> Township { Township(store: store(township)) }

    /// The whole script; with `keep`, the county then runs until SIGINT or SIGTERM.
    func run(keep: Bool) async throws {
        say(
            madeCertificates
                ? "Created a cluster CA and certificates for the coordinator, "
                    + "17 townships and an operator in \(pki.path)."
                : "Using the certificates in \(pki.path).")
        var configuration = RPCServer.Configuration(listen: Endpoint(host: "127.0.0.1", port: 0))
        configuration.rpc.heartbeat = .milliseconds(1_000)
        let coordinator = CoordinatorService(
            configuration: configuration,
            tls: try ClusterTLS.serverContext(NodeCredentials(pki: pki, node: "coordinator")),
            store: try SQLiteStore(path: "\(data)/coordinator.sqlite", node: "coordinator")
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await coordinator.run() }
            let port = try await coordinator.server.localAddress().port ?? 0
            let endpoint = Endpoint(host: "127.0.0.1", port: port)
            say("Coordinator listening on \(endpoint) (TLS 1.3, client certificates required), its store in \(data)/.")
            let operatorTLS = try ClusterTLS.clientContext(NodeCredentials(pki: pki, node: "operator"))
            let identity = try NodeIdentity(node: "operator", role: .operator)
            let client = OperatorClient(endpoint: endpoint, tls: operatorTLS, identity: identity)
            try await client.withConnection { county in
                try await self.script(county, endpoint: endpoint)
                try await self.finish(county, endpoint: endpoint)
            }
            if keep {
                explore(endpoint)
                await Self.waitForStopSignal()
            }
            stopAll()
            tasks.cancelAll()
        }
    }

    // MARK: The script

    private func script(_ county: RPCConnection, endpoint: Endpoint) async throws {
        let (offline, rebuilt, closing) = (names[0], names[names.count / 2], names[names.count - 1])

        for township in names {
            let params = PutParams(
                kind: RecordKind.contest.rawValue, key: Contest.key(Self.contest(township)),
                data: Self.contestData(township).json)
            _ = try await county.call(Method.put, params: params, returning: VersionResult.self)
        }
        say(
            "The operator published \(names.count) contests, one per township's election; each has "
                + ContestCommand.Publish.competition(Self.contestData(names[0])))

        for township in names { start(township, endpoint) }
        try await waitUntil("every agent is connected") {
            try await county.call(Method.status, params: EmptyResult(), returning: StatusResult.self).totals.online
                == self.names.count
        }
        say("\(names.count) agents connected over mutual TLS; the clerks start recording.")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for township in names {
                group.addTask {
                    try await self.record(township, serials: 1...self.ballots, station: "s01")
                    try await self.office(township).open(Self.sealCheck(township, edit: nil), id: "seal-check")
                }
            }
            try await group.waitForAll()
        }
        say("Each township recorded \(ballots) ballots of round vote-1 and opened a finding, in its own store.")
        try await waitForOutboxes(names)
        say("Every outbox is empty: the coordinator holds \(names.count * ballots) ballots.")

        // A township goes offline and keeps recording; the county edits its finding meanwhile.
        await stop(offline)
        let finding = Township.findingKey(township: offline, id: "seal-check")
        try await record(offline, serials: (ballots + 1)...(ballots + 10), station: "s02")
        try await office(offline).editFinding("seal-check") { $0 = Self.sealCheck(offline, edit: .township) }
        _ = try await county.call(
            Method.put,
            params: PutParams(kind: "finding", key: finding, data: Self.sealCheck(offline, edit: .county).json),
            returning: VersionResult.self
        )
        say(
            "\(offline) went offline; "
                + "it recorded 10 more ballots and edited \(finding) — which the county edited too meanwhile."
        )
        start(offline, endpoint)
        try await waitForOutboxes([offline])
        try await waitUntil("the conflict on \(finding) is open") {
            try await county.call(Method.conflicts, params: EmptyResult(), returning: ConflictsResult.self).conflicts
                .contains { $0.key == finding }
        }
        say(
            "\(offline) reconnected and caught up: its 10 ballots arrived, "
                + "and both versions of the finding are kept as an open conflict."
        )
        let agreed = Self.agreedSeal(offline)
        let resolved = try Record(
            json: try await county.call(
                Method.resolve, params: ResolveParams(key: finding, data: agreed.json), returning: VersionResult.self
            ).record)
        try await waitUntil("\(offline) holds the resolution") {
            try await self.store(offline).read { try $0.current(of: finding) }?.siblings == [resolved]
        }
        say("The operator resolved it (clock \(resolved.clock)); \(offline) holds the same single version.")

        // A township's PC is rebuilt with an empty store and gets its records back from the county.
        let before = try await office(rebuilt).localStatus()
        await stop(rebuilt)
        try rebuildStore(rebuilt)
        start(rebuilt, endpoint)
        try await waitUntil("\(rebuilt)'s new store holds its records again") {
            let now = try await self.office(rebuilt).localStatus()
            return now.ballots == before.ballots && now.findings == before.findings
        }
        say(
            "\(rebuilt)'s PC was rebuilt with an empty store: "
                + "its agent got back its \(before.ballots) ballots and \(before.findings) finding from the county."
        )

        // A round closes once its township has reported that the county holds all it sent;
        // a ballot recorded afterwards is quarantined.
        let contest = Self.contest(closing)
        try await waitUntil("\(closing) reports an empty outbox to the county") {
            try await county.call(Method.status, params: EmptyResult(), returning: StatusResult.self).townships
                .contains { $0.node == closing && $0.outbox == 0 }
        }
        _ = try await county.call(
            Method.closeRound, params: CloseRoundParams(contest: contest, round: "vote-1"),
            returning: CloseRoundResult.self)
        try await record(closing, serials: (ballots + 1)...(ballots + 1), station: "s01")
        try await waitForOutboxes([closing])
        let refused = try await office(closing).localStatus().refused.first
        say(
            "The operator closed round vote-1 of \(contest); "
                + "a ballot \(closing) recorded afterwards was kept but quarantined "
                + "(\(closing)'s `local status` shows it: \(refused?.reason ?? "none")).")
    }

    /// The dashboard's frame and the tally, checked against every ballot recorded.
    private func finish(_ county: RPCConnection, endpoint: Endpoint) async throws {
        // Agents report their outbox in heartbeat pings, sent after a second of quiet: give them up to 3 s.
        var status = try await county.call(Method.status, params: EmptyResult(), returning: StatusResult.self)
        let patience = ContinuousClock.now + .seconds(3)
        while status.townships.contains(where: { $0.outbox != 0 }), ContinuousClock.now < patience {
            try await Task.sleep(for: .milliseconds(100))
            status = try await county.call(Method.status, params: EmptyResult(), returning: StatusResult.self)
        }
        let tally = try await county.call(
            Method.tally, params: TallyParams(round: "vote-1"), returning: TallyResult.self)
        var expected: [String: (counted: Int, quarantined: Int)] = [:]
        for township in names { expected[Self.contest(township)] = (ballots, 0) }
        expected[Self.contest(names[0])] = (ballots + 10, 0)
        expected[Self.contest(names[names.count - 1])] = (ballots, 1)
        for round in tally.rounds {
            guard let wanted = expected[round.contest], round.valid + round.invalid == wanted.counted,
                round.quarantined == wanted.quarantined
            else {
                throw CommandFailure(
                    "The tally of \(round.contest) does not match the ballots recorded; this is a bug, "
                        + "please report it."
                )
            }
        }
        guard tally.rounds.count == names.count else {
            throw CommandFailure("The tally lacks contests; this is a bug, please report it.")
        }
        say("The tally agrees with every ballot recorded. The dashboard (`sunshine dashboard --once`):")
        Output.say("")
        let state = DashboardState(coordinator: "\(endpoint)", status: status, received: Date(), connection: .connected)
        Output.lines(DashboardScreen.frame(state, size: nil, now: Date()).lines)
        Output.say("")
        Output.say("The tally of round vote-1 (`sunshine tally --round vote-1`):")
        Output.say("")
        Output.lines(CountyViews.tally(tally, detailed: false, width: Output.width))
        Output.say("")
    }

    private func explore(_ endpoint: Endpoint) {
        let sunshine = CommandLine.arguments.first ?? "sunshine"
        let operatorFlags = "--pki \(pki.path) --coordinator \(endpoint)"
        let township = names[1]
        let clerkFlags = "--node \(township) --data \(data)"
        Output.say(
            """
            The county keeps running; Ctrl-C stops it. From another terminal:
              \(sunshine) dashboard \(operatorFlags)
              \(sunshine) status \(operatorFlags)
              \(sunshine) tally \(operatorFlags) --contest \(Self.contest(township))
              \(sunshine) rejected \(operatorFlags)
              \(sunshine) ballot add \(clerkFlags) --contest \(Self.contest(township)) --round vote-2 --station s01 --serial 1 --choice cand-01
              \(sunshine) ballot list \(clerkFlags) --round vote-2
              \(sunshine) finding list \(clerkFlags) --all
              \(sunshine) local status \(clerkFlags)
            """)
    }

    // MARK: Agents

    func start(_ township: String, _ endpoint: Endpoint) {
        let store = self.store(township)
        let pki = self.pki
        agents.withLock { agents in
            agents[township] = Task {
                let agent = AgentService(
                    configuration: .init(node: township, coordinator: endpoint),
                    tls: try ClusterTLS.clientContext(NodeCredentials(pki: pki, node: township)), store: store
                )
                try await agent.run()
            }
        }
    }

    func stop(_ township: String) async {
        let task = agents.withLock { $0.removeValue(forKey: township) }
        task?.cancel()
        _ = await task?.result
    }

    func stopAll() {
        for task in agents.withLock({ $0.values }) { task.cancel() }
    }

    /// Moves the township's store aside, as if its PC were replaced, and opens a new empty one.
    private func rebuildStore(_ township: String) throws {
        let path = "\(data)/\(township).sqlite"
        stores.withLock { _ = $0.removeValue(forKey: township) }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.moveItem(
                atPath: path + suffix, toPath: "\(data)/\(township)-old-pc.sqlite\(suffix)")
        }
        let fresh = try SQLiteStore(path: path, node: township)
        stores.withLock { $0[township] = fresh }
    }

    // MARK: Clerks

    private func record(_ township: String, serials: ClosedRange<Int>, station: String) async throws {
        var random = SystemRandomNumberGenerator()
        let ids = Self.candidates.map(\.id)
        let papers = serials.map { serial in
            let choices = Array(ids.shuffled(using: &random).prefix(Int.random(in: 1...5, using: &random)))
            return Ballot(
                contest: Self.contest(township), round: "vote-1", station: station, serial: Int64(serial),
                choices: choices, valid: serial % 25 != 0)
        }
        for paper in papers { try await office(township).record(paper) }
    }

    private func waitForOutboxes(_ townships: [String]) async throws {
        try await waitUntil("every outbox is empty") {
            for township in townships where try await self.office(township).outbox().unsent > 0 { return false }
            return true
        }
    }

    private func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                throw CommandFailure(
                    "The demo waited 60 s for \(what) in vain; run it with --log-level info to see why.")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Returns on SIGINT or SIGTERM.
    private static func waitForStopSignal() async {
        let (signals, signalled) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { signalled.yield(number) }
            source.resume()
            return source
        }
        for await _ in signals { break }
        for source in sources { source.cancel() }
    }

    // MARK: Sample data

    static func contest(_ township: String) -> String { "committee-2026-\(township)" }

    static let candidates = ["李伟", "王芳", "张敏", "刘洋", "陈静", "赵磊", "黄勇"].enumerated().map { index, name in
        Contest.Candidate(id: String(format: "cand-%02d", index + 1), name: name)
    }

    static func contestData(_ township: String) -> Contest {
        Contest(
            title: "Township party committee", township: township, seats: 5,
            rounds: ["rec-1", "rec-2", "vote-1", "vote-2"], candidates: candidates)
    }

    /// Who edits the demo's finding while the township is offline.
    enum Editor { case township, county }

    /// The demo's finding about a township's ballot box seal: as first opened (`edit` nil), or as
    /// the township and the county each edit it while apart.
    static func sealCheck(_ township: String, edit: Editor?) -> Finding {
        let team = "team-\(township.suffix(2))"
        let title = "Ballot box seal checked at opening"
        switch edit {
        case nil:
            return Finding(
                team: team, category: "procedure", severity: .medium, status: .open, title: title,
                details: "Seal intact; number recorded.")
        case .township:
            return Finding(
                team: team, category: "procedure", severity: .high, status: .investigating, title: title,
                details: "Seal number differs from the log.", notes: ["Photographed the seal."])
        case .county:
            return Finding(
                team: team, category: "procedure", severity: .medium, status: .resolved, title: title,
                details: "County inspector confirmed the seal.", notes: ["County visit at 10:40."])
        }
    }

    /// The finding as the county and the township agree on it.
    static func agreedSeal(_ township: String) -> Finding {
        Finding(
            team: "team-\(township.suffix(2))", category: "procedure", severity: .high, status: .investigating,
            title: "Ballot box seal checked at opening",
            details: "Seal number differs from the log; county and township investigate together.",
            notes: ["Photographed the seal.", "County visit at 10:40."])
    }
}
