import NIOCore
import SunshineWire
import Testing

/// A graceful close (SIGTERM): what is in progress finishes, nothing new starts.
@Suite struct ConnectionDrainTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func message(_ text: String) -> Result<InboundMessage, EnvelopeError> {
        do throws(EnvelopeError) {
            return .success(try InboundMessage.parse(ByteBuffer(string: text)))
        } catch {
            return .failure(error)
        }
    }

    private func request(_ id: Int, _ method: String) -> Result<InboundMessage, EnvelopeError> {
        message(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":{}}"#)
    }

    private func established() -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(side: .server, now: start)
        let hello =
            #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1,"node":"township-01","role":"agent","#
            + #""software":"t","maxFrame":1048576}}"#
        _ = machine.received(message(hello), now: start)
        machine.helloAccepted(heartbeat: .seconds(5), now: start)
        return machine
    }

    @Test func aDrainingServerFinishesThePushInProgressAndRunsNoNewOne() {
        var machine = established()
        #expect(machine.received(request(2, "push"), now: start) == .dispatchRequest(id: 2, method: "push"))
        machine.beginDrain()
        #expect(machine.isDraining)
        #expect(!machine.isIdle, "the push is still being committed")
        guard case .reject(3, let error, false) = machine.received(request(3, "push"), now: start) else {
            Issue.record("a push arriving while draining was not refused")
            return
        }
        #expect(error.known == .overloaded)
        #expect(
            error.message == "This side is closing the connection and runs no new request; retry on a new connection.")
        #expect(machine.received(request(4, "ping"), now: start) == .dispatchRequest(id: 4, method: "ping"))
        machine.inboundFinished()
        #expect(!machine.isIdle)
        machine.inboundFinished()
        #expect(machine.isIdle)
        #expect(!machine.isClosed, "closing is the driver's to do once idle")
    }

    @Test func aDrainingClientWaitsForTheAnswersToItsCallsButNotForItsHeartbeat() throws {
        var machine = ConnectionStateMachine(side: .client, now: start)
        machine.helloCompleted(heartbeat: .seconds(1), now: start)
        let push = try machine.startCall(now: start).get()
        machine.beginDrain()
        #expect(!machine.isIdle)
        let later = start + .seconds(2)
        #expect(machine.tick(now: later).contains { if case .sendHeartbeat = $0 { true } else { false } })
        _ = machine.received(message(#"{"jsonrpc":"2.0","id":\#(push),"result":{}}"#), now: later)
        #expect(machine.isIdle, "only the heartbeat ping awaits an answer")
    }
}
