import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SunshinePKI
import SunshineWire

/// Settings shared by both ends of a connection.
public struct RPCConfiguration: Sendable {
    /// The largest frame this side accepts, announced in `hello`.
    public var maxFrame: Int = Frame.defaultMaxFrame
    /// Server: the heartbeat interval announced to clients in the `hello` result.
    public var heartbeat: TimeAmount = .seconds(5)
    /// The rules the state machine enforces (hello timeout, call timeout, in-flight bounds).
    public var connection = ConnectionStateMachine.Configuration()
    /// How long a graceful close waits for the requests and calls in progress (``RPCConnection/drain(reason:)``).
    public var drainTimeout: TimeAmount = .seconds(5)

    public init() {}
}

/// One live, authenticated JSON-RPC connection over TLS, usable from async code on both sides.
///
/// Reading, dispatch and timers run inside the server's or client's task; other tasks use
/// ``call(_:params:returning:timeout:)``, ``notify(_:params:)`` and ``close(reason:)``. Pipelined
/// requests are answered as they finish, in any order.
public final class RPCConnection: Sendable {
    /// A short random id for this connection, in both sides' logs.
    public let session: String
    public let remoteAddress: SocketAddress?
    let configuration: RPCConfiguration
    let logger: Logger
    private let channel: any Channel
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let shared: NIOLockedValueBox<Shared>
    private let pingReport: @Sendable () async -> PingParams
    /// Wakes the timer task: at the state machine's next deadline (scheduled on the event loop, so
    /// an idle connection costs no polling) and whenever a state change may move that deadline.
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let scheduledWake = NIOLockedValueBox<Scheduled<Void>?>(nil)
    /// Wakes the sender of posted notifications (``post(_:params:)``).
    private let postings: AsyncStream<Void>
    private let wakePoster: AsyncStream<Void>.Continuation

    private struct WaitingCall {
        var method: String
        var timeout: TimeAmount
        var promise: EventLoopPromise<MessagePayload>
    }

    private struct Shared {
        var machine: ConnectionStateMachine
        var calls: [RPCID: WaitingCall] = [:]
        var peerMaxFrame = Frame.defaultMaxFrame
        var peer: PeerCertificate?
        var hello: HelloParams?
        var closeReason: String?
        /// Posted notifications not sent yet, one per method: a newer one replaces an older.
        var posted: [String: ByteBuffer] = [:]
        /// The deadline the timer task is scheduled to wake at (nil: none). A change that only
        /// moves deadlines later — a call started, a write begun — needs no wake-up.
        var armed: NIODeadline?
        /// The turn of the last ordered request dispatched: the next one's begins after it.
        var lastTurn: OrderedTurn?
    }

    init(
        side: ConnectionStateMachine.Side,
        channel: any Channel,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        configuration: RPCConfiguration,
        logger: Logger,
        pingReport: @escaping @Sendable () async -> PingParams = { PingParams() }
    ) {
        self.session = String(UUID().uuidString.lowercased().prefix(8))
        self.channel = channel
        self.outbound = outbound
        self.configuration = configuration
        self.remoteAddress = channel.remoteAddress
        self.pingReport = pingReport
        var logger = logger
        logger[metadataKey: "session"] = "\(session)"
        self.logger = logger
        self.shared = NIOLockedValueBox(
            Shared(machine: ConnectionStateMachine(side: side, configuration: configuration.connection, now: .now()))
        )
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wake.yield()
        (postings, wakePoster) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The peer's certificate identity: on a server once `hello` succeeded, on a client once the
    /// handshake did.
    public var peer: PeerCertificate? { shared.withLockedValue { $0.peer } }

    /// The `hello` the client sent (server side).
    public var hello: HelloParams? { shared.withLockedValue { $0.hello } }

    /// Whether the connection has closed.
    public var isClosed: Bool { shared.withLockedValue { $0.machine.isClosed } }

    /// Whether a graceful close has begun (``drain(reason:)``).
    public var isDraining: Bool { shared.withLockedValue { $0.machine.isDraining } }

    // MARK: Calls to the peer

    /// Sends a request and waits for its result.
    ///
    /// - Throws: the peer's ``RPCError``, or ``RPCCallError`` for a timeout, a closed connection or
    ///   an oversized message.
    public func call<Params: Encodable & Sendable, Result: Decodable>(
        _ method: String,
        params: Params,
        returning: Result.Type = Result.self,
        timeout: TimeAmount? = nil
    ) async throws -> Result {
        let payload = try await rawCall(method, params: params, timeout: timeout)
        return try payload.result(as: Result.self)
    }

    /// Sends a request once every request started before it has been handed to the connection,
    /// and returns without waiting for the answer: requests started one after another reach the
    /// peer in that order (a window of pushes must).
    public func start<Params: Encodable & Sendable, Result: Decodable & Sendable>(
        _ method: String,
        params: Params,
        returning: Result.Type = Result.self,
        timeout: TimeAmount? = nil
    ) async throws -> PendingCall<Result> {
        let (id, future) = try await startRaw(method, params: params, timeout: timeout)
        return PendingCall { try await self.awaitRaw(id: id, future: future).result(as: Result.self) }
    }

    /// Sends a notification (no answer expected).
    public func notify<Params: Encodable & Sendable>(_ method: String, params: Params) async throws {
        try await send(OutboundMessage.notification(method: method, params: params), method: method)
    }

    /// Queues a notification to be sent soon, replacing one of the same method not sent yet, and
    /// returns at once: one peer that does not read never holds up whoever posts to it, and what
    /// waits for it stays one message per method (DESIGN §3.9).
    public func post<Params: Encodable & Sendable>(_ method: String, params: Params) {
        guard let frame = try? OutboundMessage.notification(method: method, params: params) else { return }
        post(frame, as: method)
    }

    /// Queues a frame for the poster, replacing one of the same name not sent yet.
    private func post(_ frame: ByteBuffer, as name: String) {
        shared.withLockedValue { $0.posted[name] = frame }
        wakePoster.yield()
    }

    /// Says `bye` with a reason, flushes, and closes. Calls still waiting fail.
    public func close(reason: String) async {
        await finish(sending: Self.bye(reason), reason: "closed here: \(reason)")
    }

    /// Closes gracefully, as on SIGTERM: runs no new request of the peer's (each is answered
    /// `overloaded`, retryable), holds back new calls of this side's until the connection has
    /// closed, waits up to ``RPCConfiguration/drainTimeout`` for what is in progress — requests
    /// being handled, calls awaiting their answers — and then says `bye` and closes. A push being
    /// committed is so answered before the connection ends, on both sides.
    public func drain(reason: String) async {
        shared.withLockedValue { $0.machine.beginDrain() }
        wake.yield()
        let deadline = NIODeadline.now() + configuration.drainTimeout
        while !Task.isCancelled, NIODeadline.now() < deadline,
            !shared.withLockedValue({ $0.machine.isIdle || $0.machine.isClosed })
        {
            try? await Task.sleep(for: .milliseconds(10))
        }
        await close(reason: reason)
    }

    /// Returns when the connection has closed, for whatever reason; throws `CancellationError`
    /// as soon as the waiting task is cancelled, so a session waiting here can always end.
    public func waitUntilClosed() async throws {
        let waiter = CloseWaiter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiter.wait(continuation)
                channel.closeFuture.whenComplete { _ in waiter.finish(.success(())) }
            }
        } onCancel: {
            waiter.finish(.failure(CancellationError()))
        }
    }

    /// Starts saying `bye` and closing without waiting; for synchronous contexts such as a
    /// graceful-shutdown handler.
    public func beginClose(reason: String) {
        let channel = self.channel
        channel.writeAndFlush(Self.bye(reason)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Sends `error` as an `id: null` error frame and closes without waiting, for a peer the server
    /// no longer accepts (its certificate was revoked while it was connected). Calls still waiting
    /// fail with the error's message.
    func beginRefusal(_ error: RPCError) {
        shared.withLockedValue { state in
            if state.closeReason == nil { state.closeReason = error.message }
        }
        let channel = self.channel
        channel.writeAndFlush(OutboundMessage.error(id: nil, error)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The `bye` notification frame.
    private static func bye(_ reason: String) -> ByteBuffer? {
        try? OutboundMessage.notification(method: Method.bye, params: ByeParams(reason: reason))
    }

    func rawCall<Params: Encodable & Sendable>(_ method: String, params: Params, timeout: TimeAmount?) async throws -> MessagePayload {
        let (id, future) = try await startRaw(method, params: params, timeout: timeout)
        return try await awaitRaw(id: id, future: future)
    }

    /// Registers a call and writes its request.
    private func startRaw<Params: Encodable & Sendable>(
        _ method: String, params: Params, timeout: TimeAmount?
    ) async throws -> (RPCID, EventLoopFuture<MessagePayload>) {
        if shared.withLockedValue({ $0.machine.isDraining }) {
            // A draining connection sends nothing new: the call fails once the connection closed.
            try? await waitUntilClosed()
            let reason = shared.withLockedValue { $0.closeReason }
            throw RPCCallError.connectionClosed(reason: reason ?? "the connection closed")
        }
        let promise = channel.eventLoop.makePromise(of: MessagePayload.self)
        let started = shared.withLockedValue { state -> Swift.Result<RPCID, any Error> in
            if state.machine.isClosed {
                return .failure(RPCCallError.connectionClosed(reason: state.closeReason ?? "the connection is closed"))
            }
            let result = state.machine.startCall(timeout: timeout, now: .now())
            if case .success(let id) = result {
                state.calls[id] = WaitingCall(method: method, timeout: timeout ?? configuration.connection.callTimeout, promise: promise)
            }
            return result.mapError { $0 }
        }
        let id: RPCID
        switch started {
        case .success(let started):
            id = started
            wakeTimerIfSooner()
        case .failure(let error):
            promise.fail(error)
            throw error
        }
        do {
            try await send(OutboundMessage.request(id: id, method: method, params: params), method: method)
        } catch let error as RPCCallError {
            _ = takeCall(id)
            promise.fail(error)
            throw error
        } catch {
            // The channel is closing. The call stays registered: the reader fails it with the
            // reason once it has read what the peer sent last (a refusal, a bye), or the call's
            // timeout does.
            logger.debug("\(method) not sent: \(error)")
        }
        return (id, promise.futureResult)
    }

    /// Waits for the answer to a started call; a cancelled waiter gives the call up.
    private func awaitRaw(id: RPCID, future: EventLoopFuture<MessagePayload>) async throws -> MessagePayload {
        try await withTaskCancellationHandler {
            try await future.get()
        } onCancel: {
            self.takeCall(id)?.promise.fail(CancellationError())
        }
    }

    private func takeCall(_ id: RPCID) -> WaitingCall? {
        shared.withLockedValue { state in
            state.machine.cancelCall(id: id)
            return state.calls.removeValue(forKey: id)
        }
    }

    /// Writes one payload, refusing what the peer's maxFrame would refuse.
    private func send(_ payload: ByteBuffer, method: String) async throws {
        let limit = shared.withLockedValue { $0.peerMaxFrame }
        guard payload.readableBytes <= limit else {
            throw RPCCallError.tooLarge(method: method, bytes: payload.readableBytes, peerMaxFrame: limit)
        }
        shared.withLockedValue { $0.machine.writeStarted(now: .now()) }
        wakeTimerIfSooner()
        defer { shared.withLockedValue { $0.machine.writeFinished(now: .now()) } }
        try await outbound.write(payload)
    }

    /// Wakes the timer task when the state machine's next deadline is now earlier than the one it
    /// is scheduled for; most calls and writes only add later deadlines, and then cost no task
    /// switch and no event-loop timer (sunshine-bench roundtrip).
    private func wakeTimerIfSooner() {
        let sooner = shared.withLockedValue { state -> Bool in
            guard let next = state.machine.nextDeadline() else { return false }
            guard let armed = state.armed else { return true }
            return next < armed
        }
        if sooner { wake.yield() }
    }

    // MARK: Running

    /// Reads and dispatches until the connection closes; runs the heartbeat timer beside it.
    func run(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        responder: any RPCResponder,
        serverIdentity: EventLoopFuture<PeerCertificate>? = nil,
        established: @escaping @Sendable (RPCConnection) -> Bool = { _ in true }
    ) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runTimer() }
            group.addTask {
                for await _ in self.postings {
                    let frames = self.shared.withLockedValue { state -> [(String, ByteBuffer)] in
                        defer { state.posted.removeAll() }
                        return state.posted.sorted { $0.key < $1.key }
                    }
                    for (method, frame) in frames { try? await self.send(frame, method: method) }
                }
            }
            await self.read(inbound, responder: responder, serverIdentity: serverIdentity, established: established, group: &group)
            await self.finish(sending: nil, reason: "the peer closed the connection")
            group.cancelAll()
        }
        await responder.connectionClosed(self)
    }

    private func read(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        responder: any RPCResponder,
        serverIdentity: EventLoopFuture<PeerCertificate>?,
        established: @escaping @Sendable (RPCConnection) -> Bool,
        group: inout DiscardingTaskGroup
    ) async {
        do {
            for try await frame in inbound {
                let parsed: Swift.Result<InboundMessage, EnvelopeError>
                do throws(EnvelopeError) {
                    parsed = .success(try InboundMessage.parse(frame))
                } catch {
                    parsed = .failure(error)
                }
                let action = shared.withLockedValue { state in
                    let action = state.machine.received(parsed, now: .now())
                    // Keep why the connection ends at the moment it does, so a call attempted in
                    // between still says why (a revoked certificate, a timeout, the peer's bye).
                    switch action {
                    case .peerClosed(let reason): state.closeReason = state.closeReason ?? "closed by the peer: \(reason)"
                    case .reject(_, let error, true): state.closeReason = state.closeReason ?? error.message
                    default: break
                    }
                    return action
                }
                let message = try? parsed.get()
                if await perform(action, message: message, responder: responder, serverIdentity: serverIdentity, established: established, group: &group) {
                    return
                }
            }
        } catch let error as FrameError {
            let action = shared.withLockedValue { $0.machine.receivedFrameError(error) }
            logger.notice("framing error: \(error)")
            if case .reject(let id, let rpcError, _) = action {
                await finish(sending: OutboundMessage.error(id: id, rpcError), reason: rpcError.message)
            }
        } catch is CancellationError {
            // The task reading the connection was cancelled: its owner is done with it (a client
            // whose call failed closes it so), which is no news for a log.
        } catch {
            // TLS failures (plaintext to the TLS port, a refused certificate) and resets end here,
            // for this connection only.
            logger.info("connection ended: \(error)")
        }
    }

    /// Carries out one inbound action for `message` (nil when the frame could not be parsed);
    /// returns true when the connection is done.
    private func perform(
        _ action: ConnectionStateMachine.InboundAction,
        message: InboundMessage?,
        responder: any RPCResponder,
        serverIdentity: EventLoopFuture<PeerCertificate>?,
        established: @escaping @Sendable (RPCConnection) -> Bool,
        group: inout DiscardingTaskGroup
    ) async -> Bool {
        switch action {
        case .handleHello(let id):
            guard case .request(_, _, let payload) = message else { return false }
            return await acceptHello(id: id, payload: payload, responder: responder, serverIdentity: serverIdentity, established: established)
        case .dispatchRequest(let id, let method):
            guard case .request(_, _, let payload) = message else { return false }
            // Bounded by the state machine's in-flight limit.
            let turn = responder.isOrdered(method)
                ? shared.withLockedValue { state -> OrderedTurn in
                    let turn = OrderedTurn(after: state.lastTurn)
                    state.lastTurn = turn
                    return turn
                }
                : nil
            group.addTask { await self.answer(id: id, method: method, payload: payload, responder: responder, turn: turn) }
        case .dispatchNotification(let method):
            guard case .notification(_, let payload) = message else { return false }
            await responder.receive(notification: method, payload: payload, on: self)
        case .completeCall(let id, let error):
            guard let call = shared.withLockedValue({ $0.calls.removeValue(forKey: id) }) else { return false }
            if let error {
                call.promise.fail(error)
            } else if case .response(_, let payload) = message {
                call.promise.succeed(payload)
            }
        case .heartbeatAnswered, .ignore:
            break
        case .reject(let id, let error, let close):
            logger.notice("refused a message: \(error.message)")
            if close {
                await finish(sending: OutboundMessage.error(id: id, error), reason: error.message)
                return true
            }
            try? await send(OutboundMessage.error(id: id, error), method: "error")
        case .peerClosed(let reason):
            logger.info("peer closed: \(reason)")
            await finish(sending: nil, reason: "closed by the peer: \(reason)")
            return true
        }
        return false
    }

    /// Server: checks a `hello` against the certificate and the protocol, then asks the application.
    private func acceptHello(
        id: RPCID,
        payload: MessagePayload,
        responder: any RPCResponder,
        serverIdentity: EventLoopFuture<PeerCertificate>?,
        established: @Sendable (RPCConnection) -> Bool
    ) async -> Bool {
        func refuse(_ error: RPCError, close: Bool) async -> Bool {
            shared.withLockedValue { $0.machine.helloRejected(close: close) }
            logger.notice("refused hello: \(error.message)")
            if close {
                await finish(sending: OutboundMessage.error(id: id, error), reason: error.message)
            } else {
                try? await send(OutboundMessage.error(id: id, error), method: Method.hello)
            }
            return close
        }
        guard let serverIdentity, let peer = try? await serverIdentity.get() else {
            return await refuse(.forbidden("The TLS peer could not be identified; present a certificate issued by the cluster CA."), close: true)
        }
        let hello: HelloParams
        do throws(RPCError) {
            hello = try payload.params(as: HelloParams.self)
        } catch {
            return await refuse(error, close: false)
        }
        guard hello.protocolVersion == ProtocolVersion.current else {
            return await refuse(
                RPCError(.unsupportedProtocol, "This coordinator speaks protocol \(ProtocolVersion.current), not \(hello.protocolVersion); upgrade the client."),
                close: true
            )
        }
        guard hello.maxFrame >= Frame.minimumMaxFrame else {
            return await refuse(.invalidParams("maxFrame must be at least \(Frame.minimumMaxFrame) bytes."), close: false)
        }
        // A peer may not make this side build frames of any size it likes (DESIGN §3.9).
        let peerMaxFrame = min(hello.maxFrame, Frame.maximumMaxFrame)
        guard hello.node == peer.identity.node, hello.role == peer.identity.role else {
            return await refuse(
                .forbidden(
                    "hello says \(hello.node) (\(hello.role.rawValue)) but the certificate is \(peer.identity); a node may only speak as itself."
                ),
                close: true
            )
        }
        shared.withLockedValue {
            $0.peer = peer
            $0.hello = hello
            $0.peerMaxFrame = peerMaxFrame
        }
        guard established(self) else {
            return await refuse(.overloaded("The coordinator serves as many connections as it can; retry shortly."), close: true)
        }
        let acceptance: HelloAcceptance
        do {
            acceptance = try await responder.acceptHello(hello, from: peer, on: self)
        } catch let error as RPCError {
            return await refuse(error, close: error.known == .forbidden || (error.known?.closesConnection ?? true))
        } catch {
            return await refuse(.internal("The coordinator could not start the session (\(error)); try again."), close: false)
        }
        let result = HelloResult(
            session: session,
            maxFrame: configuration.maxFrame,
            heartbeatMs: Int(configuration.heartbeat.nanoseconds / 1_000_000),
            checkpoint: acceptance.checkpoint,
            store: acceptance.store,
            pullFrom: acceptance.pullFrom,
            checkpointHead: acceptance.checkpointHead
        )
        await setPeerMaxFrame(peerMaxFrame)
        shared.withLockedValue { $0.machine.helloAccepted(heartbeat: configuration.heartbeat, now: .now()) }
        wake.yield()
        do {
            try await send(OutboundMessage.response(id: id, result: result), method: Method.hello)
        } catch {
            return true
        }
        logger.info("hello from \(peer.identity) at \(remoteAddress.map { "\($0)" } ?? "an unknown address") (\(hello.software))")
        return false
    }

    /// Client: the coordinator's `hello` result sets the heartbeat and the frame limit.
    func helloCompleted(_ result: HelloResult, peer: PeerCertificate) async {
        shared.withLockedValue {
            $0.peer = peer
            $0.machine.helloCompleted(heartbeat: .milliseconds(Int64(max(result.heartbeatMs, 100))), now: .now())
        }
        wake.yield()
        await setPeerMaxFrame(min(result.maxFrame, Frame.maximumMaxFrame))
    }

    private func setPeerMaxFrame(_ bytes: Int) async {
        shared.withLockedValue { $0.peerMaxFrame = bytes }
        try? await channel.triggerUserOutboundEvent(FrameEncoder.PeerMaxFrame(bytes)).get()
    }

    /// Runs one request and answers it.
    private func answer(id: RPCID, method: String, payload: MessagePayload, responder: any RPCResponder, turn: OrderedTurn?) async {
        defer { shared.withLockedValue { $0.machine.inboundFinished() } }
        // The next ordered request never waits for more than this one's answer.
        defer { turn?.end() }
        let frame: ByteBuffer
        do {
            let result: any Encodable & Sendable
            if method == Method.ping {
                let params = try payload.params(as: PingParams.self)
                await responder.pinged(params, on: self)
                result = EmptyResult()
            } else if let turn {
                result = try await responder.respond(to: method, payload: payload, on: self, turn: turn)
            } else {
                result = try await responder.respond(to: method, payload: payload, on: self)
            }
            frame = try OutboundMessage.response(id: id, result: result)
        } catch let error as RPCError {
            frame = OutboundMessage.error(id: id, error)
        } catch {
            logger.error("\(method) failed: \(error)")
            frame = OutboundMessage.error(id: id, .internal("The \(method) request failed inside the server and had no effect; try again."))
        }
        do {
            try await send(frame, method: method)
        } catch RPCCallError.tooLarge(_, let bytes, let limit) {
            let error = RPCError.internal("The answer (\(bytes) bytes) is over your maxFrame of \(limit) bytes; ask for less at once.")
            try? await send(OutboundMessage.error(id: id, error), method: method)
        } catch {
            logger.debug("could not answer \(method): \(error)")
        }
    }

    private func runTimer() async {
        for await _ in wakeups {
            let (actions, next) = shared.withLockedValue { state in
                let actions = state.machine.tick(now: .now())
                let next = state.machine.nextDeadline()
                state.armed = next
                return (actions, next)
            }
            for action in actions {
                switch action {
                case .sendHeartbeat(let id):
                    // Posted, never awaited here: a peer that stops reading must not stop the timer
                    // that will close it.
                    let report = await pingReport()
                    if let frame = try? OutboundMessage.request(id: id, method: Method.ping, params: report) {
                        post(frame, as: Method.ping)
                    }
                case .failCall(let id):
                    if let call = shared.withLockedValue({ $0.calls.removeValue(forKey: id) }) {
                        let seconds = Double(call.timeout.nanoseconds / 1_000_000) / 1000
                        call.promise.fail(RPCCallError.timedOut(method: call.method, seconds: seconds))
                    }
                case .close(let error):
                    logger.notice("closing: \(error.message)")
                    await finish(sending: OutboundMessage.error(id: nil, error), reason: error.message)
                    return
                }
            }
            if let next {
                let wake = self.wake
                let task = channel.eventLoop.scheduleTask(deadline: next) { _ = wake.yield() }
                scheduledWake.withLockedValue { scheduled -> Scheduled<Void>? in
                    defer { scheduled = task }
                    return scheduled
                }?.cancel()
            }
        }
    }

    /// Sends a last frame (if any), closes the channel and fails every call still waiting.
    /// Safe to call more than once.
    private func finish(sending last: ByteBuffer?, reason: String) async {
        // The first reason recorded wins: the read loop notes a refusal or a bye the moment it
        // sees it, before the stream ends and this runs with a generic reason.
        let (calls, firstReason) = shared.withLockedValue { state -> ([WaitingCall], String) in
            _ = state.machine.close()
            if state.closeReason == nil { state.closeReason = reason }
            defer { state.calls.removeAll() }
            return (Array(state.calls.values), state.closeReason ?? reason)
        }
        for call in calls {
            call.promise.fail(RPCCallError.connectionClosed(reason: firstReason))
        }
        scheduledWake.withLockedValue { $0.take() }?.cancel()
        wake.finish()
        wakePoster.finish()
        if let last {
            // A peer that reads nothing must not hold the close: the last frame gets a second.
            let channel = self.channel
            let deadline = channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
            try? await channel.writeAndFlush(last).get()
            deadline.cancel()
        }
        try? await channel.close().get()
    }

    /// The size of the largest frame the peer accepts.
    public var peerMaxFrame: Int { shared.withLockedValue { $0.peerMaxFrame } }
}

/// Resumes one continuation exactly once, with whichever outcome comes first: the channel closing
/// or the waiting task being cancelled (which may happen before the continuation exists).
private final class CloseWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, any Error>)
        case finished(Swift.Result<Void, any Error>)
        case done
    }

    private let state = NIOLockedValueBox(State.idle)

    func wait(_ continuation: CheckedContinuation<Void, any Error>) {
        let early = state.withLockedValue { state -> Swift.Result<Void, any Error>? in
            if case .finished(let result) = state {
                state = .done
                return result
            }
            state = .waiting(continuation)
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func finish(_ result: Swift.Result<Void, any Error>) {
        let waiting = state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
            switch state {
            case .idle:
                state = .finished(result)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .finished, .done:
                return nil
            }
        }
        waiting?.resume(with: result)
    }
}

/// A request on its way: ``result()`` waits for the peer's answer.
public struct PendingCall<Result: Sendable>: Sendable {
    private let wait: @Sendable () async throws -> Result

    init(_ wait: @escaping @Sendable () async throws -> Result) {
        self.wait = wait
    }

    public func result() async throws -> Result {
        try await wait()
    }
}
