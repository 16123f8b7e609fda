import Foundation
import SunshineModel
import SunshineWire
import Testing

/// The wire's coders over parsed JSON values follow `JSONDecoder`'s rules and coding paths, and
/// write what `JSONEncoder` wrote, in canonical form.
@Suite struct JSONValueCodingTests {
    struct Paper: Codable, Equatable {
        var contest: String
        var serial: Int64
        var choices: [String]
        var valid: Bool?
        var note: JSONValue?
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONValueDecoder.decode(type, from: try JSONParser.parse(text))
    }

    @Test func decodesMembersOptionalsAndJSONValuesAsTheyAre() throws {
        let paper = try decode(Paper.self, #"{"contest":"c","serial":7,"choices":["a","b"],"note":{"x":[1,null]}}"#)
        #expect(paper == Paper(contest: "c", serial: 7, choices: ["a", "b"], valid: nil, note: ["x": [1, .null]]))
        let nulls = try decode(Paper.self, #"{"contest":"c","serial":1.0,"choices":[],"valid":null,"extra":1}"#)
        #expect(nulls.serial == 1 && nulls.valid == nil)
    }

    @Test(arguments: [
        (#"{"serial":1,"choices":[]}"#, "\"contest\" is missing"),
        (#"{"contest":null,"serial":1,"choices":[]}"#, "\"contest\" should be a string, not null"),
        (#"{"contest":3,"serial":1,"choices":[]}"#, "\"contest\" should be a string"),
        (#"{"contest":"c","serial":1,"choices":["a",2]}"#, "\"choices.[1]\" should be a string"),
        (#"{"contest":"c","serial":"1","choices":[]}"#, "\"serial\" should be an integer"),
    ])
    func refusalsNameTheMemberAtFault(_ text: String, _ expected: String) {
        #expect {
            _ = try decode(Paper.self, text)
        } throws: { error in
            WireCoding.describe(error).contains(expected)
        }
    }

    @Test func aFractionIsNotAnInteger() {
        #expect(throws: DecodingError.self) {
            _ = try decode(Paper.self, #"{"contest":"c","serial":1.5,"choices":[]}"#)
        }
    }

    @Test func encodesSortedWithoutNilMembersAndRoundTrips() throws {
        let paper = Paper(contest: "c/1", serial: 7, choices: ["a"], valid: nil, note: ["b": 1, "a": "é\n"])
        let text = CanonicalJSON.string(try JSONValueEncoder.encode(paper))
        #expect(text == #"{"choices":["a"],"contest":"c/1","note":{"a":"é\n","b":1},"serial":7}"#)
        #expect(try decode(Paper.self, text) == paper)
        let foundation = try JSONDecoder().decode(Paper.self, from: Data(text.utf8))
        #expect(foundation == paper)
    }

    @Test func wireMessagesRoundTripThroughTheEnvelope() throws {
        let params = PushParams(records: [["key": "k", "clock": ["n": 1]]], after: 0, upto: 1)
        let frame = try OutboundMessage.request(id: 9, method: "push", params: params)
        guard case .request(let id, let method, let payload) = try InboundMessage.parse(frame) else {
            Issue.record("not a request")
            return
        }
        #expect(id == 9 && method == "push")
        #expect(try payload.params(as: PushParams.self) == params)
    }
}
