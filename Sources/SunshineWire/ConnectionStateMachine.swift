import NIOCore

/// The rules of one RPC connection (DESIGN §3.2, §3.3, §3.5) as a pure state machine: it is told
/// what arrived and what time it is, and answers with what to do. It owns no socket and no clock,
/// so every rule — hello first, hello within 10 s, heartbeats when idle, closing a peer silent for
/// three heartbeats, per-call timeouts, a bound on requests in flight — is tested without I/O.
///
/// ```
///  server:  awaitingHello ──hello──▶ helloInProgress ──accepted──▶ established ──▶ closed
///                │ other frame / 10 s                 │ rejected                     ▲
///                └───────────────────────────────────┴──────────────────────────────┘
///  client:  established from the start (its driver sends hello before anything else)
/// ```
public struct ConnectionStateMachine: Sendable {
    public enum Side: Sendable { case server, client }

    public struct Configuration: Sendable {
        /// How long a server waits for `hello` after accepting the connection.
        public var helloTimeout: TimeAmount = .seconds(10)
        /// How long a call waits for its response unless the caller says otherwise.
        public var callTimeout: TimeAmount = .seconds(30)
        /// Heartbeats missed before a silent peer is closed.
        public var silentHeartbeats: Int = 3
        /// Requests from the peer being handled at once; more are answered `overloaded`.
        public var maxInboundInFlight: Int = 64
        /// Calls to the peer awaiting a response at once; more fail locally with `overloaded`.
        public var maxPendingCalls: Int = 1_024

        public init() {}
    }

    enum Phase: Equatable {
        case awaitingHello(deadline: NIODeadline)
        case helloInProgress
        case established
        case closed
    }

    /// What to do with an inbound message.
    public enum InboundAction: Equatable, Sendable {
        /// Server: validate this `hello`, then call ``helloAccepted(heartbeat:now:)`` or ``helloRejected(close:)``.
        case handleHello(id: RPCID)
        /// Run the request and answer it; call ``inboundFinished()`` when answered.
        case dispatchRequest(id: RPCID, method: String)
        case dispatchNotification(method: String)
        /// Resume the call waiting for this id.
        case completeCall(id: RPCID, error: RPCError?)
        /// The answer to our own heartbeat ping; nothing more to do.
        case heartbeatAnswered
        /// A response to no call we are waiting for (late after a timeout, or bogus): drop it.
        case ignore
        /// Answer with this error; then close if `close`.
        case reject(id: RPCID?, error: RPCError, close: Bool)
        /// The peer said `bye` or reported a fatal error; close without answering.
        case peerClosed(reason: String)
    }

    /// What to do when time has passed.
    public enum TimerAction: Equatable, Sendable {
        case sendHeartbeat(id: RPCID)
        case failCall(id: RPCID)
        /// Send this error (with `id: null`) and close.
        case close(RPCError)
    }

    public let side: Side
    public let configuration: Configuration
    private(set) var phase: Phase
    private let helloDeadline: NIODeadline
    private var heartbeat: TimeAmount?
    private var lastReceived: NIODeadline
    private var lastSent: NIODeadline
    private var pending: [RPCID: NIODeadline] = [:]
    private var heartbeatID: RPCID?
    private var nextID: RPCID = 1
    private var inboundInFlight = 0
    /// Closing gracefully: requests are answered `overloaded` instead of run (``beginDrain()``).
    public private(set) var isDraining = false
    /// When each write still waiting for the peer to take it began, oldest first.
    private var pendingWrites: [NIODeadline] = []

    public init(side: Side, configuration: Configuration = .init(), now: NIODeadline) {
        self.side = side
        self.configuration = configuration
        self.helloDeadline = now + configuration.helloTimeout
        self.phase = side == .server ? .awaitingHello(deadline: helloDeadline) : .established
        self.lastReceived = now
        self.lastSent = now
    }

    public var isClosed: Bool { phase == .closed }
    public var isEstablished: Bool { phase == .established }
    public var pendingCallCount: Int { pending.count }

    /// Whether nothing is in progress: no request of the peer's is being handled and no call of
    /// this side's awaits its answer (a heartbeat ping aside) — a draining connection may close.
    public var isIdle: Bool {
        inboundInFlight == 0 && pending.keys.allSatisfy { $0 == heartbeatID }
    }

    /// Starts a graceful close (SIGTERM): requests already running finish and are answered, calls
    /// already sent get their answers, and every request that arrives from now on — a ping aside —
    /// is answered `overloaded` (retryable) rather than run, so that the connection becomes
    /// ``isIdle`` and can say `bye`.
    public mutating func beginDrain() {
        isDraining = true
    }

    // MARK: Inbound

    /// A frame arrived and was parsed (or failed to parse).
    public mutating func received(_ parsed: Result<InboundMessage, EnvelopeError>, now: NIODeadline) -> InboundAction {
        lastReceived = now
        guard phase != .closed else { return .ignore }
        let message: InboundMessage
        switch parsed {
        case .failure(let envelope):
            let close = envelope.error.known?.closesConnection ?? true
            if close { phase = .closed }
            return .reject(id: envelope.id, error: envelope.error, close: close)
        case .success(let parsedMessage):
            message = parsedMessage
        }

        switch message {
        case .response(let id, _):
            return completion(for: id, error: nil)
        case .errorResponse(let id?, let error):
            return completion(for: id, error: error)
        case .errorResponse(nil, let error):
            phase = .closed
            return .peerClosed(reason: error.description)
        case .notification(Method.bye, let payload):
            phase = .closed
            let reason = (try? payload.params(as: ByeParams.self).reason) ?? "no reason given"
            return .peerClosed(reason: reason)
        case .request(let id, Method.hello, _):
            switch phase {
            case .awaitingHello:
                phase = .helloInProgress
                return .handleHello(id: id)
            case .established where side == .server:
                return .reject(
                    id: id,
                    error: .forbidden("This connection has already said hello; the session continues unchanged."),
                    close: false
                )
            default:
                return .reject(id: id, error: .methodNotFound(Method.hello), close: false)
            }
        case .request(let id, let method, _):
            guard phase == .established else { return unauthenticated(id: id, method: method) }
            guard !isDraining || method == Method.ping else {
                return .reject(
                    id: id,
                    error: .overloaded(
                        "This side is closing the connection and runs no new request; retry on a new connection."),
                    close: false
                )
            }
            guard inboundInFlight < configuration.maxInboundInFlight else {
                return .reject(
                    id: id,
                    error: .overloaded(
                        "\(configuration.maxInboundInFlight) requests are already in progress on this connection; wait for their answers and retry."
                    ),
                    close: false
                )
            }
            inboundInFlight += 1
            return .dispatchRequest(id: id, method: method)
        case .notification(let method, _):
            guard phase == .established else { return unauthenticated(id: nil, method: method) }
            return .dispatchNotification(method: method)
        }
    }

    /// The framing layer failed: a bad length or a frame cut off by EOF.
    public mutating func receivedFrameError(_ error: FrameError) -> InboundAction {
        let wasClosed = phase == .closed
        phase = .closed
        switch error {
        case .invalidLength:
            return .reject(id: nil, error: RPCError(.frameTooLarge, "The frame was refused: \(error); the connection is closed."), close: true)
        case .truncated, .outboundTooLarge:
            return wasClosed ? .ignore : .peerClosed(reason: error.description)
        }
    }

    /// A request dispatched by ``received(_:now:)`` has been answered.
    public mutating func inboundFinished() {
        inboundInFlight = max(0, inboundInFlight - 1)
    }

    /// Server: the `hello` was valid. Heartbeats start.
    public mutating func helloAccepted(heartbeat: TimeAmount, now: NIODeadline) {
        guard phase == .helloInProgress else { return }
        phase = .established
        self.heartbeat = heartbeat
        lastReceived = now
    }

    /// Server: the `hello` was refused. With `close`, the connection closes; without, the client may
    /// send a corrected `hello` before the original deadline.
    public mutating func helloRejected(close: Bool) {
        guard phase == .helloInProgress else { return }
        phase = close ? .closed : .awaitingHello(deadline: helloDeadline)
    }

    /// Client: the coordinator answered `hello`; heartbeats start at the interval it announced.
    public mutating func helloCompleted(heartbeat: TimeAmount, now: NIODeadline) {
        guard side == .client, phase == .established else { return }
        self.heartbeat = heartbeat
        lastReceived = now
    }

    // MARK: Outbound

    /// Registers a call and returns its id, or the error to fail it with locally.
    public mutating func startCall(timeout: TimeAmount? = nil, now: NIODeadline) -> Result<RPCID, RPCError> {
        guard phase != .closed else { return .failure(.internal("The connection is closed; the call was not sent.")) }
        guard pending.count < configuration.maxPendingCalls else {
            return .failure(.overloaded("\(configuration.maxPendingCalls) calls already await answers on this connection."))
        }
        let id = nextID
        nextID += 1
        pending[id] = now + (timeout ?? configuration.callTimeout)
        return .success(id)
    }

    /// The caller gave up on a call (its task was cancelled); a late answer will be ignored.
    public mutating func cancelCall(id: RPCID) {
        pending.removeValue(forKey: id)
    }

    /// Something was written to the peer; an idle timer restarts.
    public mutating func sent(now: NIODeadline) {
        lastSent = now
    }

    /// A write to the peer began; it may wait while the peer does not read (DESIGN §3.9).
    public mutating func writeStarted(now: NIODeadline) {
        pendingWrites.append(now)
    }

    /// The oldest write in progress was taken (or failed).
    public mutating func writeFinished(now: NIODeadline) {
        if !pendingWrites.isEmpty { pendingWrites.removeFirst() }
        lastSent = now
    }

    /// The connection is closing: every call still waiting must be failed.
    public mutating func close() -> [RPCID] {
        phase = .closed
        let ids = pending.keys.sorted()
        pending.removeAll()
        heartbeatID = nil
        return ids
    }

    // MARK: Time

    /// Time has passed: what is due now.
    public mutating func tick(now: NIODeadline) -> [TimerAction] {
        switch phase {
        case .closed, .helloInProgress:
            return []
        case .awaitingHello(let deadline):
            guard now >= deadline else { return [] }
            phase = .closed
            return [.close(.timeout("No hello arrived within \(Self.describe(configuration.helloTimeout)) of connecting; the connection is closed."))]
        case .established:
            break
        }
        var actions: [TimerAction] = []
        if let heartbeat {
            let silence = heartbeat * Int64(configuration.silentHeartbeats)
            // Silent means a heartbeat went unanswered: a timer woken late (a loaded machine)
            // asks first, below, instead of closing a peer that was never asked.
            if now - lastReceived >= silence, heartbeatID != nil {
                let ids = close()
                return ids.map { .failCall(id: $0) }
                    + [.close(.timeout("The peer was silent for \(Self.describe(silence)) (\(configuration.silentHeartbeats) heartbeats); the connection is closed."))]
            }
            // A peer that stops reading would hold this connection's answers — and the memory
            // behind them — for ever: past the same limit, it is closed.
            if let oldest = pendingWrites.first, now - oldest >= silence {
                let ids = close()
                return ids.map { .failCall(id: $0) }
                    + [.close(.timeout("The peer took nothing written to it for \(Self.describe(silence)) (\(configuration.silentHeartbeats) heartbeats); the connection is closed."))]
            }
        }
        for id in pending.filter({ now >= $0.value }).keys.sorted() {
            pending.removeValue(forKey: id)
            if id == heartbeatID {
                heartbeatID = nil
            } else {
                actions.append(.failCall(id: id))
            }
        }
        if let heartbeat, heartbeatID == nil,
            now - lastSent >= heartbeat || now - lastReceived >= heartbeat * Int64(configuration.silentHeartbeats)
        {
            let id = nextID
            nextID += 1
            pending[id] = now + heartbeat * Int64(configuration.silentHeartbeats)
            heartbeatID = id
            lastSent = now
            actions.append(.sendHeartbeat(id: id))
        }
        return actions
    }

    /// When ``tick(now:)`` next has something to do, so a driver can sleep until then.
    public func nextDeadline() -> NIODeadline? {
        var deadlines = Array(pending.values)
        switch phase {
        case .awaitingHello(let deadline): deadlines.append(deadline)
        case .established:
            if let heartbeat {
                deadlines.append(lastSent + heartbeat)
                deadlines.append(lastReceived + heartbeat * Int64(configuration.silentHeartbeats))
                if let oldest = pendingWrites.first { deadlines.append(oldest + heartbeat * Int64(configuration.silentHeartbeats)) }
            }
        case .helloInProgress, .closed: break
        }
        return deadlines.min()
    }

    // MARK: Helpers

    private mutating func completion(for id: RPCID, error: RPCError?) -> InboundAction {
        guard pending.removeValue(forKey: id) != nil else { return .ignore }
        if id == heartbeatID {
            heartbeatID = nil
            return .heartbeatAnswered
        }
        return .completeCall(id: id, error: error)
    }

    private mutating func unauthenticated(id: RPCID?, method: String) -> InboundAction {
        phase = .closed
        return .reject(
            id: id,
            error: RPCError(.unauthenticated, "\"\(method)\" was sent before hello; send hello first. The connection is closed."),
            close: true
        )
    }

    static func describe(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
