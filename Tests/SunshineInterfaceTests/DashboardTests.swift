import Foundation
import SunshineConsole
import SunshineModel
import SunshineTestSupport
import SunshineTownship
import SunshineWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The dashboard as operators see it: one frame with `--once`, a JSON stream, and the live view in
/// a real terminal (tmux), resized, cut off from its coordinator, and left with q or Ctrl-C.
@Suite(.serialized, .timeLimit(.minutes(5))) struct DashboardTests {
    private func county() async throws -> TestCounty {
        let county = try TestCounty()
        try await county.startCoordinator()
        var contest = sampleContest
        contest.title = "乡镇党委换届选举第一轮投票"
        try await county.publish(contest, id: "committee-2026")
        try county.startAgent("township-01")
        try await Township(store: try county.store("township-01")).record(paper(1))
        try await county.waitUntilSent("township-01")
        return county
    }

    @Test func onceDrawsOneFrameInPlainTextAndJSONStreamsTheStatus() async throws {
        let county = try await county()
        let once = try await sunshine(["dashboard", "--once"] + county.operatorFlags)
        #expect(once.status == 0, "\(once)")
        #expect(once.stdout.hasPrefix("Sunshine county dashboard"))
        #expect(once.stdout.contains("Townships 1/1 online") && once.stdout.contains("township-01  online"), "\(once)")
        #expect(once.stdout.contains("Latest events") && once.stdout.contains("township-01 connected"))
        #expect(once.stdout.contains("published for township-01: 乡镇党委换届选举第一轮投票"))
        #expect(!once.stdout.contains("\u{1B}"), "no escape code when standard output is not a terminal")

        let json = try await sunshine(["dashboard", "--once", "--json"] + county.operatorFlags)
        #expect(json.status == 0, "\(json)")
        #expect(try await validate(json.stdout, against: "cli/dashboard.schema.json").status == 0)
        await county.stopAll()
    }

    @Test func theJSONStreamSaysWhenTheCoordinatorIsGoneAndKeepsTrying() async throws {
        let county = try await county()
        let endpoint = "\(county.endpoint)"
        let stream = Task.detached {
            try await sunshine(["dashboard", "--json", "--interval", "0.2"] + county.operatorFlags, timeout: 4)
        }
        try await Task.sleep(for: .seconds(1.5))
        await county.stopCoordinator()
        let run = try await stream.value
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count >= 3, "\(run)")
        #expect(try await validate(run.stdout, against: "cli/dashboard.schema.json").status == 0)
        #expect(lines.first?.contains(#""connected":true"#) == true)
        #expect(lines.last?.contains(#""connected":false"#) == true)
        #expect(lines.last?.contains("Cannot reach the coordinator at \(endpoint)") == true, "\(run)")
        await county.stopAll()
    }

    @Test(.enabled(if: Tmux.isInstalled, "needs tmux"))
    func theLiveViewRedrawsOnChangeAndResizeSurvivesALostCoordinatorAndRestoresTheTerminal() async throws {
        let county = try await county()
        let tmux = try Tmux(
            columns: 110, rows: 32, command: [SunshineExecutable.path, "dashboard"] + county.operatorFlags)
        defer { tmux.kill() }
        let first = try await tmux.screen(containing: "township-01")
        #expect(first.contains("Townships 1/1 online"), "\(first)")
        #expect(await tmux.modes == ("1", "0"), "the alternate screen, the cursor hidden")

        // A change shows at once, not only at the next refresh.
        try await Township(store: try county.store("township-01")).record(paper(2))
        _ = try await tmux.screen(containing: "Ballots 2")

        // Narrower than the table: every line fits, Chinese text at its display width.
        await tmux.resize(columns: 52, rows: 18)
        let narrow = try await tmux.screen(containing: "…")
        #expect(narrow.split(separator: "\n").allSatisfy { $0.displayWidth <= 52 }, "\(narrow)")
        #expect(narrow.contains("…"), "what does not fit is cut with an ellipsis: \(narrow)")

        // The coordinator goes away: the dashboard says so and keeps trying; it comes back.
        await tmux.resize(columns: 110, rows: 32)
        await county.stopCoordinator()
        let lost = try await tmux.screen(containing: "Cannot reach the coordinator at \(county.endpoint)")
        #expect(lost.contains("Not connected") && lost.contains("Retrying in"), "\(lost)")
        try await county.startCoordinator()
        _ = try await tmux.screen { !$0.contains("Not connected") && $0.contains("township-01") }

        await tmux.type("q")
        let after = try await tmux.screen(containing: "END-OF-STTY")
        #expect(after.contains("EXIT=0"), "\(after)")
        #expect(
            after.contains("icanon") && !after.contains("-icanon") && !after.contains("-echo "),
            "cooked mode again: \(after)")
        #expect(await tmux.modes == ("0", "1"), "the main screen, the cursor shown")
        await county.stopAll()
    }

    @Test(.enabled(if: Tmux.isInstalled, "needs tmux"))
    func ctrlCLeavesTheLiveViewAndRestoresTheTerminal() async throws {
        let county = try await county()
        let tmux = try Tmux(
            columns: 100, rows: 30, command: [SunshineExecutable.path, "dashboard"] + county.operatorFlags)
        defer { tmux.kill() }
        _ = try await tmux.screen(containing: "township-01")
        await tmux.key("C-c")
        let after = try await tmux.screen(containing: "END-OF-STTY")
        #expect(after.contains("EXIT=0"), "\(after)")
        #expect(after.contains("icanon") && !after.contains("-icanon"), "\(after)")
        #expect(await tmux.modes == ("0", "1"))
        await county.stopAll()
    }
}

/// A program in a real terminal: a detached tmux session of its own, whose screen the test reads
/// and whose keyboard and window size it controls. After the program exits, the pane's shell
/// prints `EXIT=STATUS`, the terminal's settings (`stty -a`) and `END-OF-STTY`, and stays open to be read.
struct Tmux: Sendable {
    let name = "sunshine-test-\(UUID().uuidString.prefix(8))"
    let socket = NSTemporaryDirectory() + "sunshine-tmux-\(UUID().uuidString.prefix(8))"

    static var isInstalled: Bool { (try? runProcess("tmux", ["-V"]).status) == 0 }

    init(columns: Int, rows: Int, command: [String]) throws {
        let quoted = command.map(Self.quote).joined(separator: " ")
        let script = "\(quoted); echo EXIT=$?; stty -a; echo END-OF-STTY; sleep 600"
        // Started with system(3), not Process, whose wait for its child's descriptors to close would
        // outlast the tmux server it forks. That server would also keep whatever descriptors this
        // process has open — a coordinator's listening socket among them — so the shell closes
        // every descriptor above 2 first (bash: sh may not name descriptors above 9).
        let closeInherited =
            #"for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done; exec "$@""#
        let words = [
            "bash", "-c", closeInherited, "bash", "tmux", "-S", socket, "new-session", "-d", "-s", name, "-x",
            "\(columns)", "-y", "\(rows)",
            "env", "-u", "NO_COLOR", "TERM=xterm-256color", "sh", "-c", script,
        ]
        let status = system(words.map(Self.quote).joined(separator: " ") + " </dev/null >/dev/null 2>&1")
        guard status == 0 else { throw TimedOut(what: "tmux started (it exited with \(status))") }
    }

    /// `word` quoted for sh.
    static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private func tmux(_ arguments: [String]) async -> String {
        let socket = self.socket
        return (try? await offThePool { try runProcess("tmux", ["-S", socket] + arguments).output }) ?? ""
    }

    /// The screen as text, one line per row.
    var screen: String { get async { await tmux(["capture-pane", "-p", "-t", name]) } }

    /// Whether the alternate screen is on and whether the cursor shows: "1" or "0" each.
    var modes: (alternateScreen: String, cursor: String) {
        get async { (await value("alternate_on"), await value("cursor_flag")) }
    }

    /// A pane variable, e.g. `alternate_on` or `cursor_flag`.
    func value(_ variable: String) async -> String {
        await tmux(["display-message", "-p", "-t", name, "#{\(variable)}"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// Waits until the screen shows `text`, and returns it.
    func screen(containing text: String, seconds: Double = 20) async throws -> String {
        try await screen(seconds: seconds) { $0.contains(text) }
    }

    /// Waits until `condition` holds of the screen, and returns it.
    func screen(seconds: Double = 20, _ condition: (String) -> Bool) async throws -> String {
        var last = ""
        do {
            try await eventually("the terminal shows what the test waits for", seconds: seconds) {
                last = await screen
                return condition(last)
            }
        } catch {
            Issue.record("the screen was:\n\(last)")
            throw error
        }
        return last
    }

    func type(_ text: String) async { _ = await tmux(["send-keys", "-t", name, "-l", text]) }
    func key(_ key: String) async { _ = await tmux(["send-keys", "-t", name, key]) }
    func resize(columns: Int, rows: Int) async {
        _ = await tmux(["resize-window", "-t", name, "-x", "\(columns)", "-y", "\(rows)"])
    }

    /// Ends the session and its server (the program in it, if still running, gets SIGHUP).
    func kill() {
        _ = try? runProcess("tmux", ["-S", socket, "kill-server"])
        try? FileManager.default.removeItem(atPath: socket)
    }
}
