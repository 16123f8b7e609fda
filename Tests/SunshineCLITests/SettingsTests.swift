import Testing

@testable import sunshine

/// Every command resolves its settings the same way: flag, then environment, then default.
@Suite struct SettingsTests {
    @Test func aFlagWinsOverTheEnvironmentWhichWinsOverTheDefault() throws {
        let environment = ["SUNSHINE_LISTEN": "0.0.0.0:9000", "SUNSHINE_HEARTBEAT_MS": "750"]
        let flagged = Settings(flags: [.listen: "127.0.0.1:7000"], environment: environment)
        #expect(try flagged.endpoint(.listen, default: "127.0.0.1:7420").description == "127.0.0.1:7000")
        let unflagged = Settings(flags: [.listen: nil], environment: environment)
        #expect(try unflagged.endpoint(.listen, default: "127.0.0.1:7420").description == "0.0.0.0:9000")
        #expect(try unflagged.value(.heartbeatMs, default: 5_000, expected: "ms") { Int($0) } == 750)
        let bare = Settings(flags: [:], environment: [:])
        #expect(try bare.endpoint(.listen, default: "127.0.0.1:7420").description == "127.0.0.1:7420")
        #expect(try bare.string(.data) == nil)
    }

    @Test func anEmptyVariableCountsAsUnset() throws {
        let settings = Settings(flags: [:], environment: ["SUNSHINE_DATA": ""])
        #expect(try settings.string(.data, default: "sunshine-data") == "sunshine-data")
    }

    @Test func aBadValueIsNamedByWhereItCameFrom() throws {
        let fromFlag = Settings(flags: [.listen: "nowhere"], environment: [:])
        #expect(throws: CommandFailure.self) { try fromFlag.endpoint(.listen, default: "127.0.0.1:7420") }
        do {
            _ = try Settings(flags: [:], environment: ["SUNSHINE_HEARTBEAT_MS": "soon"])
                .value(.heartbeatMs, default: 5_000, expected: "a number of milliseconds from 100 to 600000") { Int($0) }
            Issue.record("a bad heartbeat was accepted")
        } catch let failure as CommandFailure {
            #expect(failure.description == "SUNSHINE_HEARTBEAT_MS must be a number of milliseconds from 100 to 600000, not \"soon\".")
        }
        do {
            _ = try fromFlag.endpoint(.listen, default: "127.0.0.1:7420")
        } catch let failure as CommandFailure {
            #expect(failure.description == "--listen must be HOST:PORT (for example 127.0.0.1:7420), not \"nowhere\".")
        }
    }

    @Test(arguments: ["[::1", "[::1]", "[::1]7420", "::1:7420", "[county.example]:7420", "[::1%]:7420", "a b:7420",
        "host:+7420", "host:-0", "host:", ":7420", "host:70000", "[[::1]]:7420", "user@host:7420"])
    func aMalformedAddressIsRefusedInOneSentence(_ text: String) throws {
        let settings = Settings(flags: [.coordinator: text], environment: [:])
        let failure = try #require(throws: CommandFailure.self) {
            try settings.endpoint(.coordinator, default: "127.0.0.1:7420")
        }
        #expect(failure.description == "--coordinator must be HOST:PORT (for example 127.0.0.1:7420), not \"\(text)\".")
    }

    @Test(arguments: [
        ("127.0.0.1:7420", "127.0.0.1:7420"), ("county.example:7420", "county.example:7420"), ("[::1]:7420", "[::1]:7420"),
        ("[fe80::1%eth0]:0", "[fe80::1%eth0]:0"), ("localhost:65535", "localhost:65535"),
    ])
    func aWellFormedAddressIsShownAsGiven(_ text: String, shown: String) throws {
        let settings = Settings(flags: [.coordinator: text], environment: [:])
        #expect(try settings.endpoint(.coordinator, default: "127.0.0.1:7420").description == shown)
    }

    @Test func theOperatorsNameHasItsOwnVariableButTheNodeFlag() throws {
        let settings = Settings(flags: [.operatorNode: nil], environment: ["SUNSHINE_OPERATOR": "operator-alice", "SUNSHINE_NODE": "township-01"])
        #expect(try settings.nodeName(.operatorNode, default: "operator", missing: "") == "operator-alice")
        let flagged = Settings(flags: [.operatorNode: "Not A Node"], environment: [:])
        #expect(throws: CommandFailure.self) { try flagged.nodeName(.operatorNode, default: "operator", missing: "") }
    }
}
