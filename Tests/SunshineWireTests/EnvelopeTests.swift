import Foundation
import NIOCore
import SunshineWire
import Testing

@Suite struct EnvelopeTests {
    private func parse(_ text: String) -> Result<InboundMessage, EnvelopeError> {
        do throws(EnvelopeError) {
            return .success(try InboundMessage.parse(ByteBuffer(string: text)))
        } catch {
            return .failure(error)
        }
    }

    private func refusal(_ text: String) -> EnvelopeError? {
        if case .failure(let error) = parse(text) { return error }
        return nil
    }

    @Test func classifiesRequestsNotificationsAndResponses() throws {
        guard case .success(.request(7, "ping", let payload)) = parse(#"{"jsonrpc":"2.0","id":7,"method":"ping","params":{"seq":3},"extra":true}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(try payload.params(as: PingParams.self) == PingParams(seq: 3))
        guard case .success(.notification("bye", _)) = parse(#"{"jsonrpc":"2.0","method":"bye","params":{"reason":"done"}}"#) else {
            Issue.record("not a notification")
            return
        }
        guard case .success(.response(9, let result)) = parse(#"{"jsonrpc":"2.0","id":9,"result":{}}"#) else {
            Issue.record("not a response")
            return
        }
        #expect(try result.result(as: EmptyResult.self) == EmptyResult())
        guard case .success(.errorResponse(nil, let error)) = parse(
            #"{"jsonrpc":"2.0","id":null,"error":{"code":1003,"message":"too big","data":{"reason":"frame_too_large","retryable":false}}}"#
        ) else {
            Issue.record("not an error response")
            return
        }
        #expect(error.known == .frameTooLarge)
    }

    @Test func missingParamsReadAsAnEmptyObject() throws {
        guard case .success(.request(1, "ping", let payload)) = parse(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(try payload.params(as: PingParams.self) == PingParams())
    }

    @Test func bytesThatAreNotUTF8AreAParseError() {
        let buffer = ByteBuffer(bytes: [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])
        do throws(EnvelopeError) {
            _ = try InboundMessage.parse(buffer)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.error.known == .parseError)
            #expect(error.id == nil)
        }
    }

    @Test(arguments: [#"{"jsonrpc":"2.0","id":1,"method":"#, "not json at all", #"{"a":}"#])
    func textThatIsNotJSONIsAParseError(_ text: String) {
        #expect(refusal(text)?.error.known == .parseError)
    }

    @Test(arguments: [
        (#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, nil),  // a batch array
        (#""hello""#, nil),
        ("42", nil),
        (#"{"jsonrpc":"1.0","id":5,"method":"ping","params":{}}"#, 5),  // wrong version, id readable
        (#"{"id":6,"method":"ping","params":{}}"#, 6),  // no jsonrpc member
        (#"{"jsonrpc":"2.0","id":8,"params":{}}"#, 8),  // no method, no result
        (#"{"jsonrpc":"2.0","id":"abc","method":"ping","params":{}}"#, nil),  // string id
        (#"{"jsonrpc":"2.0","id":1.5,"method":"ping","params":{}}"#, nil),  // fractional id
        (#"{"jsonrpc":"2.0","id":null,"method":"ping","params":{}}"#, nil),  // null id on a request
        (#"{"jsonrpc":"2.0","id":2,"method":17,"params":{}}"#, 2),  // method not a string
        (#"{"jsonrpc":"2.0","id":3,"method":"ping","params":[1,2]}"#, 3),  // positional params
        (#"{"jsonrpc":"2.0","id":4,"error":"bad"}"#, 4),  // malformed error
    ] as [(String, RPCID?)])
    func messagesThatAreNotJSONRPCAreInvalidRequests(_ text: String, id: RPCID?) {
        let error = refusal(text)
        #expect(error?.error.known == .invalidRequest)
        #expect(error?.id == id)
        #expect(error?.error.data?.reason == "invalid_request")
    }

    @Test func paramsOfTheWrongShapeAreInvalidParams() throws {
        guard case .success(.request(_, _, let payload)) = parse(#"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1,"node":3,"role":"agent","software":"t","maxFrame":1048576}}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(throws: RPCError.self) { try payload.params(as: HelloParams.self) }
        do throws(RPCError) {
            _ = try payload.params(as: HelloParams.self)
        } catch {
            #expect(error.known == .invalidParams)
            #expect(error.message.contains(#""params.node" should be a string"#))
        }
    }

    /// Review (issue 7): `hello.store` was taken as any string, so one client could make the county
    /// keep and show ids of any size. It is a store's 128-bit id in hex, or absent.
    @Test(arguments: ["", "ABCDEF0123456789ABCDEF0123456789", String(repeating: "a", count: 31), String(repeating: "a", count: 100_000), "0123456789abcdef0123456789abcdeg"])
    func aHelloStoreThatIsNotAStoreIDIsInvalidParams(_ store: String) throws {
        let text = #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1,"node":"township-01","role":"agent","software":"t","maxFrame":1048576,"store":"\#(store)"}}"#
        guard case .success(.request(_, _, let payload)) = parse(text) else {
            Issue.record("not a request")
            return
        }
        do throws(RPCError) {
            _ = try payload.params(as: HelloParams.self)
            Issue.record("accepted store \(store.prefix(40))")
        } catch {
            #expect(error.known == .invalidParams)
            #expect(error.message.contains("32 lowercase hex digits"), "\(error.message)")
        }
        let valid = text.replacingOccurrences(of: "\"store\":\"\(store)\"", with: "\"store\":\"0123456789abcdef0123456789abcdef\"")
        guard case .success(.request(_, _, let good)) = parse(valid) else { return }
        #expect(try good.params(as: HelloParams.self).store == "0123456789abcdef0123456789abcdef")
    }

    /// The attack's repro-19: a ping reporting a negative outbox was shown to operators as such.
    @Test func aPingReportingNegativeCountsIsInvalidParams() throws {
        for params in [#"{"seq":-5}"#, #"{"outbox":-1}"#] {
            guard case .success(.request(_, _, let payload)) = parse(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":"# + params + "}") else {
                Issue.record("not a request")
                return
            }
            #expect(throws: RPCError.self) { try payload.params(as: PingParams.self) }
        }
        guard case .success(.request(_, _, let good)) = parse(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"seq":0,"outbox":3}}"#) else { return }
        #expect(try good.params(as: PingParams.self) == PingParams(seq: 0, outbox: 3))
    }

    /// The second attack round's repro-6: `rejected` answered out-of-range parameters as if they
    /// meant something ("nothing held aside" for `before: 0`).
    @Test(arguments: [#"{"limit":0}"#, #"{"limit":-3}"#, #"{"limit":1001}"#, #"{"before":0}"#, #"{"before":-1}"#, #"{"township":""}"#])
    func rejectedParamsOutOfRangeAreInvalidParams(_ params: String) throws {
        guard case .success(.request(_, _, let payload)) = parse(#"{"jsonrpc":"2.0","id":1,"method":"rejected","params":"# + params + "}") else {
            Issue.record("not a request")
            return
        }
        #expect(throws: RPCError.self) { try payload.params(as: RejectedParams.self) }
    }

    @Test func encodesEveryKindOfMessageAsJSONRPC() throws {
        func object(_ buffer: ByteBuffer) throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
        }
        let request = try object(OutboundMessage.request(id: 3, method: "ping", params: PingParams(seq: 1, outbox: 0)))
        #expect(request["jsonrpc"] as? String == "2.0")
        #expect(request["id"] as? Int == 3)
        #expect((request["params"] as? [String: Any])?["outbox"] as? Int == 0)
        let notification = try object(OutboundMessage.notification(method: "bye", params: ByeParams(reason: "r")))
        #expect(notification["id"] == nil)
        let error = try object(OutboundMessage.error(id: nil, RPCError(.frameTooLarge, "m")))
        #expect(error["id"] is NSNull)
        let data = (error["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["reason"] as? String == "frame_too_large")
        #expect(data?["retryable"] as? Bool == false)
    }

    @Test func theErrorTableMatchesTheDesign() {
        let expected: [(Int, String, Bool)] = [
            (-32700, "parse_error", true), (-32600, "invalid_request", true), (-32601, "method_not_found", false),
            (-32602, "invalid_params", false), (-32603, "internal", false), (1001, "unauthenticated", true),
            (1002, "forbidden", false), (1003, "frame_too_large", true), (1004, "unsupported_protocol", true),
            (1005, "overloaded", false), (1006, "timeout", true), (1007, "out_of_order", false),
        ]
        #expect(RPCErrorCode.allCases.count == expected.count)
        for (code, reason, closes) in expected {
            let entry = RPCErrorCode(rawValue: code)
            #expect(entry?.reason == reason)
            #expect(entry?.closesConnection == closes)
            #expect(entry?.retryable == (reason == "overloaded"))
        }
    }
}
