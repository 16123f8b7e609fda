// Neither console-kit 4.16.2 nor Rainbow 4.2.2 has raw mode, key reading, the alternate screen or
// resize events, so this file does it with termios, ioctl and sigaction.
//
// Signals go through our own sigaction handler and a pipe, not `DispatchSource.makeSignalSource`:
// on Linux, libdispatch installs a process-wide handler the first time a signal gets a source and
// never installs it again, so a session that put back the previous disposition on exit (as it must,
// or SIGTERM would be ignored from then on) would leave the next session deaf to the signal.

import Dispatch
import Synchronization

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif

/// A key pressed during a session.
public enum TerminalKey: Sendable, Hashable {
    /// `q` or `Q`.
    case quit
    /// Ctrl-C, which arrives as the byte 0x03 because the session turns the terminal's signal keys off.
    case interrupt
    /// Any other byte (escape sequences arrive one byte at a time).
    case other(UInt8)

    /// The key a byte of input stands for.
    init(byte: UInt8) {
        switch byte {
        case UInt8(ascii: "q"), UInt8(ascii: "Q"): self = .quit
        case 0x03: self = .interrupt
        default: self = .other(byte)
        }
    }

    /// Whether the key asks to leave the live view (q, Q or Ctrl-C).
    public var endsSession: Bool {
        self == .quit || self == .interrupt
    }
}

/// Why a terminal session could not start, or ended before its body did.
public enum TerminalSessionError: Error, Hashable, CustomStringConvertible {
    /// The input or output is not a terminal; the caller should print plain frames instead.
    case notATerminal
    /// Another session is running in this process; the terminal and the signals have one owner.
    case alreadyRunning
    /// The session was ended by this signal (SIGTERM, SIGINT or SIGHUP) after restoring the terminal;
    /// the caller should exit with status 128 + signal.
    case signalled(Int32)
    /// The pipe that carries signals to the session could not be created, with `errno`.
    case signalPipe(Int32)

    /// One sentence for the operator.
    public var description: String {
        switch self {
        case .notATerminal: "the live view needs a terminal; use --once or --json when output is redirected"
        case .alreadyRunning: "a live view is already running in this process"
        case .signalled(let signal): "the live view was stopped by signal \(signal)"
        case .signalPipe(let code): "could not set up signal handling: \(String(cString: strerror(code)))"
        }
    }
}

/// The write end of the pipe the signal handler reports through. A C signal handler captures
/// nothing, so this is a global; it is set once, before any handler is installed, and never closed,
/// so a handler can never write to a descriptor that was reused.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// The signal handler: writes the signal's number to the pipe, which is all that is async-signal-safe.
private func reportSignal(_ signal: Int32) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = savedErrno
}

/// How one of a session's two tasks ended: the body with its result, or the watch for stopping
/// signals with a signal, or (once cancelled) with none.
private enum SessionOutcome<Result: Sendable>: Sendable {
    case finished(Result)
    case signalled(Int32)
    case watchEnded
}

/// A full-screen session on a terminal: the alternate screen, a hidden cursor and raw input for the
/// time of `run`'s body, then the terminal exactly as it was, however the body ends.
///
/// Raw mode turns ISIG off, so Ctrl-C is an ordinary key (`TerminalKey.interrupt`) and leaves by
/// the same path as `q`, from ordinary code rather than a signal handler. SIGTERM, SIGINT (from
/// `kill`) and SIGHUP (the terminal went away) restore the terminal at once, even if the body is
/// busy, put back the previous signal handlers so that a second signal has its usual effect, and
/// cancel the body; `run` then throws `TerminalSessionError.signalled`.
public final class TerminalSession: Sendable {
    private struct State {
        /// The terminal's settings before the session; nil once they are restored.
        var savedTermios: termios?
        /// The signal dispositions replaced by the session; empty once restored.
        var savedActions: [(signal: Int32, action: sigaction)] = []
        /// The sources reading keys and signals.
        var sources: [any DispatchSourceRead] = []
    }

    /// The signals the session handles: the three that end it and the one that resizes it.
    private static let handledSignals = [SIGTERM, SIGINT, SIGHUP, SIGWINCH]
    /// The one session this process may have at a time, and the signal pipe's read end once made.
    private static let process = Mutex<(isRunning: Bool, signalPipeReadEnd: Int32?)>((false, nil))
    private static let enterSequence = "\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J"
    private static let exitSequence = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l"

    /// Keys as they are pressed; finishes when the input ends or the session does.
    public let keys: AsyncStream<TerminalKey>
    /// The new size after each resize of the window, the latest only when several came at once.
    public let resizes: AsyncStream<TerminalSize>
    /// Whether `draw` uses colour.
    public let color: Bool

    private let input: Int32
    private let output: Int32
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "sunshine.console.terminal")
    private let keysContinuation: AsyncStream<TerminalKey>.Continuation
    private let resizesContinuation: AsyncStream<TerminalSize>.Continuation
    private let stops: AsyncStream<Int32>
    private let stopsContinuation: AsyncStream<Int32>.Continuation

    /// Runs `body` in a full-screen session on the terminal at `input` and `output` (standard input
    /// and output by default), drawing in colour when `color` is set (by default, as `ColorPolicy`
    /// decides for standard output). The terminal is restored when the body returns, throws, or is
    /// stopped by a signal; the body is cancelled on a signal and must then end.
    @discardableResult
    public static func run<Result: Sendable>(
        input: Int32 = STDIN_FILENO,
        output: Int32 = STDOUT_FILENO,
        color: Bool = ColorPolicy.allowsColor(),
        _ body: @escaping @Sendable (TerminalSession) async throws -> Result
    ) async throws -> Result {
        let readEnd = try claimProcess()
        let session: TerminalSession
        do {
            session = try TerminalSession(input: input, output: output, color: color, signalPipe: readEnd)
        } catch {
            process.withLock { $0.isRunning = false }
            throw error
        }
        defer {
            session.end()
            process.withLock { $0.isRunning = false }
        }
        return try await withThrowingTaskGroup(of: SessionOutcome<Result>.self) { group in
            group.addTask { .finished(try await body(session)) }
            group.addTask {
                for await signal in session.stops { return .signalled(signal) }
                return .watchEnded
            }
            var result: Result?
            var stop: Int32?
            do {
                for try await outcome in group {
                    switch outcome {
                    case .finished(let value): result = value
                    case .signalled(let signal): stop = signal
                    case .watchEnded: continue
                    }
                    group.cancelAll()
                }
            } catch {
                guard stop != nil else { throw error }  // else the body's answer to the cancellation
            }
            if let stop { throw TerminalSessionError.signalled(stop) }
            guard let result else { preconditionFailure("the body neither returned nor threw") }
            return result
        }
    }

    /// Marks the session as this process's one, and makes the signal pipe the first time.
    private static func claimProcess() throws -> Int32 {
        try process.withLock { process in
            guard !process.isRunning else { throw TerminalSessionError.alreadyRunning }
            if process.signalPipeReadEnd == nil {
                var ends: [Int32] = [0, 0]
                guard pipe(&ends) == 0 else { throw TerminalSessionError.signalPipe(errno) }
                for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
                _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
                _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
                signalPipeWriteEnd = ends[1]
                process.signalPipeReadEnd = ends[0]
            }
            process.isRunning = true
            return process.signalPipeReadEnd!
        }
    }

    private init(input: Int32, output: Int32, color: Bool, signalPipe: Int32) throws {
        var saved = termios()
        guard isatty(output) == 1, tcgetattr(input, &saved) == 0 else { throw TerminalSessionError.notATerminal }
        self.input = input
        self.output = output
        self.color = color
        (keys, keysContinuation) = AsyncStream.makeStream()
        (resizes, resizesContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (stops, stopsContinuation) = AsyncStream.makeStream()
        state = Mutex(State(savedTermios: saved))

        var byte: UInt8 = 0
        while read(signalPipe, &byte, 1) == 1 {}  // signals left from an earlier session
        let savedActions = Self.handledSignals.map { signal in
            var action = sigaction()
            #if canImport(Darwin)
                action.__sigaction_u = __sigaction_u(__sa_handler: reportSignal)
            #else
                action.__sigaction_handler.sa_handler = reportSignal
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            var previous = sigaction()
            sigaction(signal, &action, &previous)
            return (signal: signal, action: previous)
        }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &raw.c_cc) { characters in
            characters[Int(VMIN)] = 1
            characters[Int(VTIME)] = 0
        }
        tcsetattr(input, TCSAFLUSH, &raw)
        Self.writeAll(Self.enterSequence, to: output)

        state.withLock { state in
            let keySource = DispatchSource.makeReadSource(fileDescriptor: input, queue: queue)
            keySource.setEventHandler { [self] in readKeys(from: keySource) }
            let signalSource = DispatchSource.makeReadSource(fileDescriptor: signalPipe, queue: queue)
            signalSource.setEventHandler { [self] in readSignals(from: signalPipe) }
            keySource.resume()
            signalSource.resume()
            state.savedActions = savedActions
            state.sources = [keySource, signalSource]
        }
    }

    /// The window's size now (80 by 24 if the terminal does not say).
    public var size: TerminalSize {
        var window = winsize()
        guard ioctl(output, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 else {
            return TerminalSize(columns: 80, rows: 24)
        }
        return TerminalSize(columns: Int(window.ws_col), rows: Int(window.ws_row))
    }

    /// Redraws the screen with `frame`, cut to the window's size; does nothing once the terminal is
    /// restored, so a body still drawing after a signal cannot write over the user's shell.
    public func draw(_ frame: Frame) {
        state.withLock { state in
            guard state.savedTermios != nil else { return }
            Self.writeAll(frame.screen(size: size, color: color), to: output)
        }
    }

    private func readKeys(from source: any DispatchSourceRead) {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(input, &buffer, buffer.count)
        if count > 0 {
            for byte in buffer[..<count] { keysContinuation.yield(TerminalKey(byte: byte)) }
        } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
            source.cancel()
            keysContinuation.finish()
        }
    }

    private func readSignals(from pipe: Int32) {
        var byte: UInt8 = 0
        while read(pipe, &byte, 1) == 1 {
            let signal = Int32(byte)
            if signal == SIGWINCH {
                resizesContinuation.yield(size)
            } else {
                restore()
                stopsContinuation.yield(signal)
            }
        }
    }

    /// Puts the terminal and the signal handlers back as they were. Safe to call more than once,
    /// from any thread: only the first call acts.
    private func restore() {
        state.withLock { state in
            if var saved = state.savedTermios {
                Self.writeAll(Self.exitSequence, to: output)
                tcsetattr(input, TCSANOW, &saved)
                tcflush(input, TCIFLUSH)
                state.savedTermios = nil
            }
            for (signal, action) in state.savedActions {
                var previous = action
                sigaction(signal, &previous, nil)
            }
            state.savedActions = []
        }
    }

    /// Restores the terminal if a signal has not already, stops reading, and ends the streams.
    private func end() {
        restore()
        let sources = state.withLock { state in
            defer { state.sources = [] }
            return state.sources
        }
        for source in sources { source.cancel() }
        keysContinuation.finish()
        resizesContinuation.finish()
        stopsContinuation.finish()
    }

    /// Writes all of `text` to `descriptor`, waiting when the terminal is slow; gives up on an error,
    /// since there is nowhere left to report it.
    private static func writeAll(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written >= 0 {
                bytes = bytes.dropFirst(written)
            } else if errno == EAGAIN {
                var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&waiting, 1, 100)
            } else if errno != EINTR {
                return
            }
        }
    }
}
