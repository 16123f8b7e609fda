import Foundation
import NIOCore
import SunshineModel
import SunshineTestSupport
import SunshineWire
import Testing

/// The schemas in proto-schemas/ are the published contract: every message the Swift encoder
/// emits is validated against them by an independent validator (Python's jsonschema).
@Suite struct ProtocolSchemaTests {
    private func line(_ method: String, _ frame: ByteBuffer, expectInvalid: Bool = false) -> String {
        SchemaCheck.line(method, String(buffer: frame), expectInvalid: expectInvalid)
    }

    /// Every message type of protocol version 1, as the encoder writes it.
    private func emittedFrames() throws -> [String] {
        var lines = [
            line("hello", try OutboundMessage.request(id: 1, method: Method.hello, params: HelloParams(node: "township-03", role: .agent, software: "sunshine-agent/1"))),
            line("hello", try OutboundMessage.request(id: 1, method: Method.hello, params: HelloParams(node: "operator-alice", role: .operator, software: "sunshine/1", maxFrame: 65_536))),
            line("hello", try OutboundMessage.request(id: 1, method: Method.hello, params: HelloParams(
                node: "township-03", role: .agent, software: "sunshine-agent/1", store: String(repeating: "5f", count: 16),
                pulled: PulledPosition(upto: 41, head: String(repeating: "0a", count: 32))
            ))),
            line("hello", try OutboundMessage.response(id: 1, result: HelloResult(session: "5a5b6bb6", maxFrame: Frame.defaultMaxFrame, heartbeatMs: 5_000, checkpoint: 0))),
            line("hello", try OutboundMessage.response(id: 9, result: HelloResult(session: "x", maxFrame: 65_536, heartbeatMs: 100, checkpoint: 123_456))),
            line("hello", try OutboundMessage.response(id: 9, result: HelloResult(
                session: "x", maxFrame: 65_536, heartbeatMs: 100, checkpoint: 12, store: String(repeating: "5f", count: 16), pullFrom: 0,
                checkpointHead: String(repeating: "0a", count: 32)
            ))),
            line("ping", try OutboundMessage.request(id: 2, method: Method.ping, params: PingParams())),
            line("ping", try OutboundMessage.request(id: 3, method: Method.ping, params: PingParams(seq: 812, outbox: 17))),
            line("ping", try OutboundMessage.response(id: 3, result: EmptyResult())),
            line("bye", try OutboundMessage.notification(method: Method.bye, params: ByeParams(reason: "the agent is shutting down"))),
        ]
        for code in RPCErrorCode.allCases {
            let error = code == .outOfOrder
                ? RPCError.outOfOrder("A sentence saying what was wrong.", checkpoint: 812) : RPCError(code, "A sentence saying what was wrong.")
            lines.append(line("ping", OutboundMessage.error(id: 4, error)))
            lines.append(line("ping", OutboundMessage.error(id: nil, error)))
        }
        return lines
    }

    /// Frames the schemas must reject, so a validator that accepts everything cannot pass.
    private func negativeControls() -> [String] {
        [
            line("hello", ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1,"node":"township-03","role":"agent","software":"s","maxFrame":"big"}}"#), expectInvalid: true),
            line("hello", ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1,"node":"Township 3","role":"agent","software":"s","maxFrame":4096}}"#), expectInvalid: true),
            line("ping", ByteBuffer(string: #"{"jsonrpc":"2.0","id":"7","method":"ping","params":{}}"#), expectInvalid: true),
            line("ping", ByteBuffer(string: #"{"jsonrpc":"2.0","id":7,"error":{"code":1005,"message":"m","data":{"reason":"timeout","retryable":true}}}"#), expectInvalid: true),
            line("bye", ByteBuffer(string: #"{"jsonrpc":"2.0","id":3,"method":"bye","params":{"reason":"r"}}"#), expectInvalid: true),
            line("hello", ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"protocol":1,"node":"coordinator","session":"s","maxFrame":4096,"heartbeatMs":5000}}"#), expectInvalid: true),
        ]
    }

    private func validate(_ lines: [String]) throws -> (status: Int32, output: String) {
        try SchemaCheck.validate(lines)
    }

    @Test func everyMessageTheEncoderEmitsMatchesThePublishedSchemas() throws {
        let frames = try emittedFrames()
        let result = try validate(frames)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(frames.count) passed, 0 failed"), "\(result.output)")
    }

    @Test func theSchemasRejectWhatTheProtocolForbids() throws {
        let controls = negativeControls()
        let result = try validate(controls)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(controls.count) passed, 0 failed"), "\(result.output)")
    }

    @Test func aFieldTheSchemasDoNotKnowIsCaught() throws {
        // What the test does when encoder and schema disagree: an extra member fails validation.
        struct DriftedPing: Encodable { var seq = 1; var outboxCount = 2 }
        let result = try validate([line("ping", try OutboundMessage.request(id: 1, method: Method.ping, params: DriftedPing()))])
        #expect(result.status == 1)
        #expect(result.output.contains("outboxCount"), "\(result.output)")
    }
}
