import SunshineConsole
import Testing

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif

/// A pseudo-terminal pair: the session runs on the terminal side (`terminal`), and the test plays
/// the user's keyboard and screen on the other (`user`).
final class PseudoTerminal: Sendable {
    let user: Int32
    let terminal: Int32

    init(columns: UInt16 = 80, rows: UInt16 = 24) throws {
        var user: Int32 = -1
        var terminal: Int32 = -1
        var window = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        try #require(openpty(&user, &terminal, nil, nil, &window) == 0)
        self.user = user
        self.terminal = terminal
    }

    deinit {
        close(user)
        close(terminal)
    }

    /// The terminal side's settings, as the fields that matter to compare them.
    var settings: [UInt] {
        var current = termios()
        tcgetattr(terminal, &current)
        let characters = withUnsafeBytes(of: current.c_cc) { $0.map(UInt.init) }
        return [UInt(current.c_iflag), UInt(current.c_oflag), UInt(current.c_cflag), UInt(current.c_lflag)]
            + characters
    }

    var localFlags: tcflag_t {
        var current = termios()
        tcgetattr(terminal, &current)
        return current.c_lflag
    }

    /// Types `text` as the user.
    func type(_ text: String) {
        _ = text.utf8CString.withUnsafeBytes { write(user, $0.baseAddress, $0.count - 1) }
    }

    /// Resizes the window, as a terminal emulator does before it sends SIGWINCH.
    func resize(columns: UInt16, rows: UInt16) {
        var window = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(user, UInt(TIOCSWINSZ), &window)
    }

    /// What reached the screen: everything the session wrote, read until `suffix` arrives or
    /// `milliseconds` pass without output.
    func screen(until suffix: String, waitingAtMost milliseconds: Int32 = 1000) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !bytes.reversed().starts(with: suffix.utf8.reversed()) {
            var ready = pollfd(fd: user, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, milliseconds) == 1 else { break }
            let count = read(user, &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The handler installed for `signal` now, as a number to compare.
func signalHandler(_ signal: Int32) -> Int {
    var action = sigaction()
    sigaction(signal, nil, &action)
    #if canImport(Darwin)
        return unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self)
    #else
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
    #endif
}

let enterSequence = "\u{1B}[?1049h\u{1B}[?25l"
let exitSequence = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l"

/// Sessions own the process's signal handlers, so these run one at a time.
@Suite(.serialized, .timeLimit(.minutes(1))) struct TerminalSessionTests {
    struct Failure: Error {}

    @Test func aSessionSwitchesToTheAlternateScreenInRawModeAndRestoresEverythingAfter() async throws {
        let pty = try PseudoTerminal()
        let before = pty.settings
        let during = try await TerminalSession.run(input: pty.terminal, output: pty.terminal, color: false) { session in
            session.draw(Frame(["township-03 王芳  online"]))
            return pty.localFlags
        }
        #expect(during & tcflag_t(ECHO | ICANON | ISIG) == 0)
        #expect(pty.settings == before)
        let screen = pty.screen(until: exitSequence)
        #expect(screen.hasPrefix(enterSequence))
        #expect(screen.contains("\u{1B}[Htownship-03 王芳  online\u{1B}[K"))
        #expect(screen.hasSuffix(exitSequence))
    }

    @Test func keysArriveAsTheyAreTypedAndQuitAndCtrlCEndTheSession() async throws {
        let pty = try PseudoTerminal()
        let keys = try await TerminalSession.run(input: pty.terminal, output: pty.terminal, color: false) { session in
            pty.type("xQ\u{3}q")
            var keys: [TerminalKey] = []
            for await key in session.keys {
                keys.append(key)
                if keys.count == 4 { break }
            }
            return keys
        }
        #expect(keys == [.other(UInt8(ascii: "x")), .quit, .interrupt, .quit])
        #expect(keys.map(\.endsSession) == [false, true, true, true])
    }

    @Test func aBodyThatThrowsStillRestoresTheTerminal() async throws {
        let pty = try PseudoTerminal()
        let before = pty.settings
        await #expect(throws: Failure.self) {
            try await TerminalSession.run(input: pty.terminal, output: pty.terminal, color: false) { _ in
                throw Failure()
            }
        }
        #expect(pty.settings == before)
        #expect(pty.screen(until: exitSequence).hasSuffix(exitSequence))
    }

    @Test(arguments: [SIGTERM, SIGTERM, SIGINT, SIGHUP])
    func aStopSignalRestoresTheTerminalCancelsTheBodyAndPutsBackTheHandler(signal: Int32) async throws {
        let pty = try PseudoTerminal()
        let before = pty.settings
        let handlerBefore = signalHandler(signal)
        await #expect(throws: TerminalSessionError.signalled(signal)) {
            try await TerminalSession.run(input: pty.terminal, output: pty.terminal, color: false) { session in
                try #require(signalHandler(signal) != handlerBefore)
                kill(getpid(), signal)
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    session.draw(Frame(["drawn after the signal"]))
                    throw error
                }
            }
        }
        #expect(signalHandler(signal) == handlerBefore)
        #expect(pty.settings == before)
        let screen = pty.screen(until: exitSequence)
        #expect(screen.hasSuffix(exitSequence))
        #expect(!screen.contains("drawn after the signal"))
    }

    @Test func cancellingTheCallerEndsTheSessionAndRestoresTheTerminal() async throws {
        let pty = try PseudoTerminal()
        let before = pty.settings
        let dashboard = Task {
            try await TerminalSession.run(input: pty.terminal, output: pty.terminal, color: false) { _ in
                try await Task.sleep(for: .seconds(30))
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        dashboard.cancel()
        await #expect(throws: CancellationError.self) { try await dashboard.value }
        #expect(pty.settings == before)
    }

    @Test func aResizeReportsTheNewSize() async throws {
        let pty = try PseudoTerminal(columns: 80, rows: 24)
        let sizes = try await TerminalSession.run(input: pty.terminal, output: pty.terminal, color: false) { session in
            let before = session.size
            pty.resize(columns: 132, rows: 40)
            kill(getpid(), SIGWINCH)
            var resizes = session.resizes.makeAsyncIterator()
            return (before, await resizes.next(), session.size)
        }
        #expect(sizes.0 == TerminalSize(columns: 80, rows: 24))
        #expect(sizes.1 == TerminalSize(columns: 132, rows: 40))
        #expect(sizes.2 == TerminalSize(columns: 132, rows: 40))
    }

    @Test func aSecondSessionIsRefusedWhileOneRuns() async throws {
        let pty = try PseudoTerminal()
        let other = try PseudoTerminal()
        try await TerminalSession.run(input: pty.terminal, output: pty.terminal, color: false) { _ in
            await #expect(throws: TerminalSessionError.alreadyRunning) {
                try await TerminalSession.run(input: other.terminal, output: other.terminal, color: false) { _ in }
            }
        }
        #expect(other.screen(until: enterSequence, waitingAtMost: 100).isEmpty)
    }

    @Test func outputThatIsNotATerminalIsRefusedWithoutWritingAnything() async throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { ends.forEach { close($0) } }
        let (input, output) = (ends[0], ends[1])
        await #expect(throws: TerminalSessionError.notATerminal) {
            try await TerminalSession.run(input: input, output: output, color: false) { _ in }
        }
        _ = fcntl(input, F_SETFL, O_NONBLOCK)
        var byte: UInt8 = 0
        #expect(read(input, &byte, 1) == -1)
    }
}
