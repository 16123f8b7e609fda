import ArgumentParser
import Foundation
import SunshineAgent
import SunshineConsole
import SunshineRPC
import SunshineWire
import Synchronization

/// `sunshine dashboard`: the county at a glance, live.
///
/// It keeps one connection to the coordinator and asks for `status` every second, and at once when
/// the coordinator says `changed` — which it tells operators after every commit and every event —
/// so a change shows within a round trip without polling faster. Bursts of changes are taken
/// together, at most one `status` per 200 ms. A lost connection is retried with backoff until the
/// operator quits, and the screen says so meanwhile.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract:
            "A live, full-screen view of the county: townships, totals and the latest events (q or Ctrl-C quits).",
        discussion: """
            Colour when standard output is a terminal and NO_COLOR is unset. --once prints one frame and exits; \
            --json prints one JSON object per refresh (proto-schemas/cli/dashboard.schema.json), one a line.
            """
    )

    @OptionGroup var options: OperatorOptions
    @Flag(help: "Print one frame (plain text unless on a colour terminal) and exit.") var once = false
    @Option(help: "Seconds between refreshes when nothing changes (0.2–60, default 1).") var interval: Double = 1

    func validate() throws {
        guard (0.2...60).contains(interval) else {
            throw ValidationError("--interval must be between 0.2 and 60 seconds.")
        }
    }

    func run() async throws {
        let client = try options.operatorClient(for: "dashboard")
        let every = Duration.milliseconds(Int64(interval * 1000))
        if once {
            let status = try await client.withConnection {
                try await $0.call(Method.status, params: EmptyResult(), returning: StatusResult.self)
            }
            if options.json { return try Output.json(DashboardUpdate(client: client, status: status)) }
            let state = DashboardState(
                coordinator: "\(client.endpoint)", status: status, received: Date(), connection: .connected)
            return Output.lines(DashboardScreen.frame(state, size: nil, now: Date()).lines)
        }
        if options.json {
            return await Self.watch(client, every: every) { update in
                switch update {
                case .status(let status, _):
                    try? Output.json(DashboardUpdate(client: client, status: status), oneLine: true)
                case .lost(let reason, _, _):
                    try? Output.json(DashboardUpdate(client: client, error: reason), oneLine: true)
                }
            }
        }
        do {
            try await Self.live(client, every: every)
        } catch TerminalSessionError.signalled(let signal) {
            throw ExitCode(128 + signal)
        } catch let error as TerminalSessionError {
            throw CommandFailure("The dashboard cannot start: \(error.description).")
        }
    }

    /// The full-screen view until q, Ctrl-C or a stopping signal; the terminal is restored however it ends.
    static func live(_ client: OperatorClient, every: Duration) async throws {
        try await TerminalSession.run { session in
            let (inputs, input) = AsyncStream.makeStream(of: Input.self)
            await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await key in session.keys { input.yield(.key(key)) }
                    input.yield(.key(.quit))
                }
                group.addTask { for await _ in session.resizes { input.yield(.redraw) } }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .seconds(1))
                        input.yield(.redraw)
                    }
                }
                group.addTask { await watch(client, every: every) { input.yield(.update($0)) } }
                var state = DashboardState(coordinator: "\(client.endpoint)")
                session.draw(DashboardScreen.frame(state, size: session.size, now: Date()))
                for await event in inputs {
                    switch event {
                    case .key(let key) where key.endsSession:
                        group.cancelAll()
                        return
                    case .key, .redraw:
                        break
                    case .update(.status(let status, let at)):
                        state.status = status
                        state.received = at
                        state.connection = .connected
                    case .update(.lost(let reason, let retryAt, let attempt)):
                        state.connection = .lost(reason: reason, retryAt: retryAt, attempt: attempt)
                    }
                    session.draw(DashboardScreen.frame(state, size: session.size, now: Date()))
                }
                group.cancelAll()
            }
        }
    }

    /// What the live view reacts to.
    enum Input: Sendable {
        case key(TerminalKey)
        case redraw
        case update(Update)
    }

    /// What the connection brings.
    enum Update: Sendable {
        case status(StatusResult, at: Date)
        case lost(reason: String, retryAt: Date, attempt: Int)
    }

    /// Keeps a connection to the coordinator and reports each status and each loss, until cancelled.
    static func watch(_ client: OperatorClient, every: Duration, report: @escaping @Sendable (Update) -> Void) async {
        var backoff = Backoff(base: .milliseconds(500), cap: .seconds(5))
        while !Task.isCancelled {
            let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let reached = ReachedFlag()
            do {
                try await client.withConnection(responder: ChangeListener(wake: wake)) { connection in
                    reached.set()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            while true {
                                wake.yield()
                                try await Task.sleep(for: every)
                            }
                        }
                        group.addTask {
                            for await _ in wakes {
                                let status = try await connection.call(
                                    Method.status, params: EmptyResult(), returning: StatusResult.self)
                                report(.status(status, at: Date()))
                                try await Task.sleep(for: .milliseconds(200))
                            }
                        }
                        group.addTask {
                            try await connection.waitUntilClosed()
                            throw CommandFailure("the coordinator closed the connection")
                        }
                        defer { group.cancelAll() }
                        try await group.next()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                if reached.value { backoff.reset() }
                let attempt = backoff.attempt
                let delay = max(backoff.next(), .milliseconds(250))
                let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                report(.lost(reason: "\(error)", retryAt: Date().addingTimeInterval(seconds), attempt: attempt))
                try? await Task.sleep(for: delay)
            }
        }
    }
}

/// Wakes the dashboard's refresh when the coordinator says `changed`.
private struct ChangeListener: RPCResponder {
    let wake: AsyncStream<Void>.Continuation

    func receive(notification method: String, payload: MessagePayload, on connection: RPCConnection) async {
        if method == Method.changed { wake.yield() }
    }
}

/// Whether a connection got past hello.
private final class ReachedFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var value: Bool { flag.withLock { $0 } }
}

/// One line of `sunshine dashboard --json` (proto-schemas/cli/dashboard.schema.json): the status,
/// or why there is none this time.
struct DashboardUpdate: Codable, Sendable {
    /// When it was taken, ISO 8601.
    var at: String
    var coordinator: String
    var connected: Bool
    var status: StatusResult?
    var error: String?

    init(client: OperatorClient, status: StatusResult? = nil, error: String? = nil) {
        at = Date().formatted(.iso8601)
        coordinator = "\(client.endpoint)"
        connected = status != nil
        self.status = status
        self.error = error
    }
}
