import SunshineModel
import Testing

@Suite struct VersionVectorTests {
    @Test(arguments: [
        ([:], [:], VersionVector.Ordering.equal),
        (["a": 1], ["a": 1], .equal),
        (["a": 1], ["a": 2], .before),
        (["a": 2], ["a": 1], .after),
        (["a": 1], ["a": 1, "b": 1], .before),
        (["a": 1, "b": 1], ["a": 1], .after),
        (["a": 2], ["b": 1], .concurrent),
        (["a": 2, "b": 1], ["a": 1, "b": 2], .concurrent),
        ([:], ["a": 1], .before),
    ] as [([String: UInt64], [String: UInt64], VersionVector.Ordering)])
    func compares(_ left: [String: UInt64], _ right: [String: UInt64], _ expected: VersionVector.Ordering) {
        #expect(VersionVector(left).compare(VersionVector(right)) == expected)
    }

    @Test func joinIsTheElementwiseMaximumAndDominatesBoth() {
        let a = VersionVector(["township-01": 3, "coordinator": 1])
        let b = VersionVector(["township-01": 1, "coordinator": 4, "township-02": 2])
        let joined = a.joined(with: b)
        #expect(joined == VersionVector(["township-01": 3, "coordinator": 4, "township-02": 2]))
        #expect(joined.dominates(a) && joined.dominates(b))
        #expect(joined.incremented(for: "coordinator").compare(joined) == .after)
    }

    @Test func zeroEntriesAreTheSameAsAbsentOnes() {
        #expect(VersionVector(["a": 0, "b": 1]) == VersionVector(["b": 1]))
    }
}

@Suite struct CanonicalJSONTests {
    @Test func sortsKeysAndDropsWhitespace() {
        let value: JSONValue = ["b": 1, "a": ["z": true, "y": .null], "c": ["x", 2]]
        #expect(CanonicalJSON.string(value) == #"{"a":{"y":null,"z":true},"b":1,"c":["x",2]}"#)
    }

    @Test func sortsByUTF16CodeUnitsAsRFC8785Says() {
        // RFC 8785 §3.2.3: "\u{20ac}" (U+20AC) sorts before "\u{1f600}" (surrogates D83D…).
        let value: JSONValue = .object(["\u{1F600}": 1, "\u{20AC}": 2, "a": 3])
        #expect(CanonicalJSON.string(value) == "{\"a\":3,\"\u{20AC}\":2,\"\u{1F600}\":1}")
    }

    @Test func escapesOnlyWhatMustBeEscaped() {
        #expect(CanonicalJSON.string(.string("a\"b\\c\n\u{1}é/")) == #""a\"b\\c\n\u0001é/""#)
    }

    /// The number examples of RFC 8785 Appendix B that a double can hold.
    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
        (1e-7, "1e-7"), (0.000001, "0.000001"), (123.456, "123.456"), (9007199254740992, "9007199254740992"),
        (4.50, "4.5"), (2e-3, "0.002"), (0.000000000000000000000000001, "1e-27"), (Double.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (333333333.33333329, "333333333.3333333"),
    ])
    func formatsNumbersAsECMAScriptDoes(_ number: Double, _ expected: String) {
        #expect(CanonicalJSON.string(.double(number)) == expected)
    }
}
