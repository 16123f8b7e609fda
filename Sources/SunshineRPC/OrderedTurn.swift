import NIOConcurrencyHelpers

/// One ordered request's place in its connection's order (``RPCResponder/isOrdered(_:)``).
///
/// Ordered requests of a connection run concurrently, each after the one before it has ended its
/// turn: the responder does what may overlap — decoding a push's records — before
/// ``begin()``, and calls ``end()`` as soon as the next request may begin; for a push that is
/// once its write has its place in the store's order of writes, before that write commits. So a
/// window of pushes is decoded while the one before it commits, and still applies in the order it
/// was sent. The connection ends a turn when its request is answered, at the latest.
public struct OrderedTurn: Sendable {
    private let after: Gate?
    private let own = Gate()

    /// The turn after `previous` (nil: the first of its connection).
    init(after previous: OrderedTurn?) {
        self.after = previous?.own
    }

    /// Returns once the request before this one has ended its turn.
    public func begin() async {
        await after?.wait()
    }

    /// Lets the next ordered request begin. Calling it again does nothing.
    public func end() {
        own.open()
    }
}

/// A latch: opened once, and everyone waiting on it, or to come, goes on.
private final class Gate: Sendable {
    private struct State {
        var open = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = NIOLockedValueBox(State())

    func open() {
        let waiting = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLockedValue { state -> Bool in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }
}
