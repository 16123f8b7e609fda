import Foundation
import SunshineTestSupport
import Testing

@testable import sunshine

/// A directory of configuration files for one test, removed afterwards.
final class ConfigDirectory {
    let path = TestPKI.temporaryPath()

    init() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` as `name` and returns its path.
    func write(_ name: String, _ contents: String) throws -> String {
        let file = path + "/" + name
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// `--config FILE`: the file is one more source of the one resolver, below flags and variables,
/// and a wrong file stops the command with one sentence naming the file, the key and what was
/// expected.
@Suite struct ConfigFileTests {
    private func agent(_ arguments: [String], environment: [String: String] = [:]) throws -> Settings {
        try AgentCommand.parse(arguments).settings(environment: environment)
    }

    private func coordinator(_ arguments: [String], environment: [String: String] = [:]) throws -> Settings {
        try CoordinatorCommand.parse(arguments).settings(environment: environment)
    }

    /// The sentence `body` fails with.
    private func sentence(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let failure as CommandFailure {
            return failure.description
        } catch {
            return "\(error)"
        }
    }

    @Test func aFlagWinsOverTheEnvironmentWhichWinsOverTheFileWhichWinsOverTheDefault() throws {
        let directory = try ConfigDirectory()
        let file = try directory.write(
            "coordinator.json",
            #"{"listen": "0.0.0.0:7000", "heartbeatMs": 2500, "data": "/srv/sunshine", "maxFrame": 65536}"#)
        let fromFile = try coordinator(["--config", file])
        #expect(try CoordinatorCommand.configuration(fromFile).listen.description == "0.0.0.0:7000")
        #expect(try CoordinatorCommand.configuration(fromFile).rpc.heartbeat == .milliseconds(2_500))
        #expect(try CoordinatorCommand.configuration(fromFile).rpc.maxFrame == 65_536)
        #expect(try DataOptions.directory(fromFile) == "/srv/sunshine")
        let environment = ["SUNSHINE_LISTEN": "0.0.0.0:8000", "SUNSHINE_HEARTBEAT_MS": "750"]
        let overridden = try coordinator(["--config", file], environment: environment)
        #expect(try CoordinatorCommand.configuration(overridden).listen.description == "0.0.0.0:8000")
        #expect(try CoordinatorCommand.configuration(overridden).rpc.heartbeat == .milliseconds(750))
        let flagged = try coordinator(["--config", file, "--listen", "127.0.0.1:9000"], environment: environment)
        #expect(try CoordinatorCommand.configuration(flagged).listen.description == "127.0.0.1:9000")
        let defaults = try CoordinatorCommand.configuration(try coordinator([]))
        #expect(defaults.listen.description == "127.0.0.1:7420")
        #expect(defaults.rpc.heartbeat == .seconds(5))
        #expect(defaults.rpc.maxFrame == 1_048_576)
    }

    @Test func theFileCanBeNamedByTheEnvironment() throws {
        let directory = try ConfigDirectory()
        let file = try directory.write("agent.json", #"{"node": "township-05", "batchWindow": 2}"#)
        let configuration = try AgentCommand.configuration(try agent([], environment: ["SUNSHINE_CONFIG": file]))
        #expect(configuration.node == "township-05")
        #expect(configuration.sync.window == 2)
    }

    @Test func theAgentsTuningComesFromTheFile() throws {
        let directory = try ConfigDirectory()
        let file = try directory.write(
            "agent.json",
            #"{"node": "township-03", "coordinator": "county.example:7420", "maxFrame": 2097152, "#
                + #""batchRecords": 50, "batchBytes": 65536, "batchWindow": 8}"#
        )
        let configuration = try AgentCommand.configuration(try agent(["--config", file]))
        #expect(configuration.coordinator.description == "county.example:7420")
        #expect(configuration.client.rpc.maxFrame == 2_097_152)
        #expect(configuration.sync.batch == 50)
        #expect(configuration.batchBytes == 65_536)
        #expect(configuration.sync.window == 8)
        let defaults = try AgentCommand.configuration(try agent(["--node", "township-03"]))
        #expect(defaults.batchBytes == nil)
        #expect(defaults.sync.batch == 1000)
        #expect(defaults.sync.window == 4)
    }

    @Test func theExampleConfigurationsInDeployAreAcceptedAsDocumented() throws {
        let coordinatorFile = RepositoryFiles.path("deploy/coordinator.example.json")
        let server = try coordinator(["--config", coordinatorFile])
        let configuration = try CoordinatorCommand.configuration(server)
        #expect(configuration.listen.description == "0.0.0.0:7420")
        #expect(configuration.rpc.heartbeat == .seconds(5))
        #expect(try server.string(.revoked) == "/etc/sunshine/revoked.txt")
        #expect(try server.string(.logFormat) == "json")
        let agentFile = RepositoryFiles.path("deploy/agent.example.json")
        let office = try AgentCommand.configuration(try agent(["--config", agentFile]))
        #expect(office.node == "township-03")
        #expect(office.coordinator.description == "county.example:7420")
        #expect(office.batchBytes == 1_048_576 - 16_384)
    }

    /// Each wrong file and the one sentence that stops the command.
    @Test(arguments: [
        (#"{"heartbeatMs": "soon"}"#, #"heartbeatMs must be a number of milliseconds from 100 to 600000, not "soon"."#),
        (#"{"heartbeatMs": 50}"#, "heartbeatMs must be a number of milliseconds from 100 to 600000, not 50."),
        (#"{"heartbeatMs": 1.5}"#, "heartbeatMs must be a number of milliseconds from 100 to 600000, not 1.5."),
        (#"{"listen": 7420}"#, "listen must be HOST:PORT (for example 127.0.0.1:7420), not 7420."),
        (#"{"listen": {"host": "0.0.0.0"}}"#, "listen must be HOST:PORT (for example 127.0.0.1:7420), not an object."),
        (#"{"maxFrame": 1024}"#, "maxFrame must be a number of bytes from 65536 to 16777216, not 1024."),
        (
            #"{"logLevel": "loud"}"#,
            #"logLevel must be a log level (trace, debug, info, notice, warning or error), not "loud"."#
        ),
        (#"{"logFormat": "xml"}"#, #"logFormat must be a log format (text or json), not "xml"."#),
        (#"{"data": 5}"#, "data must be text (a JSON string), not 5."),
        (
            #"{"node": "Coordinator 1"}"#,
            #"node must be a node id (1–64 lower-case letters, digits and '-', starting with a letter), "#
                + #"not "Coordinator 1"."#
        ),
    ])
    func aWrongValueInTheFileIsNamedWithTheFileAndTheKey(_ contents: String, expected: String) throws {
        let directory = try ConfigDirectory()
        let file = try directory.write("coordinator.json", contents)
        let settings = try coordinator(["--config", file])
        let refusal = sentence {
            _ = try CoordinatorCommand.configuration(settings)
            _ = try settings.nodeName(.node, default: "coordinator", missing: "")
            _ = try DataOptions.directory(settings)
            _ = try LoggingOptions.configuration(settings)
        }
        #expect(refusal == "\(file): \(expected)")
    }

    @Test(arguments: [
        (#"{"batchRecords": 0}"#, "batchRecords must be a number of records from 1 to 1000, not 0."),
        (#"{"batchBytes": 100}"#, "batchBytes must be a number of bytes from 16384 to 16777216, not 100."),
        (#"{"batchBytes": "big"}"#, #"batchBytes must be a number of bytes from 16384 to 16777216, not "big"."#),
        (#"{"batchWindow": 64}"#, "batchWindow must be a number of pushes from 1 to 32, not 64."),
        (
            #"{"coordinator": "county.example"}"#,
            #"coordinator must be HOST:PORT (for example 127.0.0.1:7420), not "county.example"."#
        ),
    ])
    func aWrongAgentValueInTheFileIsNamedWithTheFileAndTheKey(_ contents: String, expected: String) throws {
        let directory = try ConfigDirectory()
        let file = try directory.write(
            "agent.json", contents.replacingOccurrences(of: "{", with: #"{"node": "township-01", "#))
        let refusal = sentence { _ = try AgentCommand.configuration(try agent(["--config", file])) }
        #expect(refusal == "\(file): \(expected)")
    }

    @Test func aKeyTheCommandDoesNotTakeIsRefusedWithTheKeysItTakes() throws {
        let directory = try ConfigDirectory()
        let file = try directory.write("agent.json", #"{"node": "township-01", "heartbeat_ms": 5000}"#)
        let refusal = sentence { _ = try AgentCommand.configuration(try agent(["--config", file])) }
        #expect(
            refusal
                == "\(file): heartbeat_ms is not a setting here; expected one of batchBytes, batchRecords, "
                + "batchWindow, "
                + "ca, cert, coordinator, data, key, logFormat, logLevel, maxFrame, node, pki.")
        let coordinatorsOnly = try directory.write("agent2.json", #"{"node": "township-01", "revoked": "/etc/r.txt"}"#)
        #expect(
            sentence { _ = try AgentCommand.configuration(try agent(["--config", coordinatorsOnly])) }?.contains(
                "revoked is not a setting here") == true)
    }

    @Test(arguments: [
        (
            "{\n  \"listen\": \"127.0.0.1:7420\"\n  \"data\": \"x\"\n}",
            #"is not valid JSON: expected "," or "}" but found '"' at byte 33 (line 3, column 3)."#
        ),
        (
            #"{"listen": "a:1", "listen": "b:2"}"#,
            #"is not valid JSON: duplicate member "listen" at byte 18 (line 1, column 19)."#
        ),
        ("// settings\n{}", #"is not valid JSON: expected a value but found "/" at byte 0 (line 1, column 1)."#),
        (#"["listen"]"#, #" must hold one JSON object of settings, such as {"data": "/var/lib/sunshine"}."#),
    ])
    func aFileThatIsNotOneJSONObjectIsRefusedWhole(_ contents: String, expected: String) throws {
        let directory = try ConfigDirectory()
        let file = try directory.write("coordinator.json", contents)
        let refusal = sentence { _ = try CoordinatorCommand.configuration(try coordinator(["--config", file])) }
        #expect(refusal == file + (expected.hasPrefix(" ") ? expected : " " + expected))
    }

    @Test func aMissingFileIsRefused() throws {
        let directory = try ConfigDirectory()
        let file = directory.path + "/absent.json"
        let refusal = sentence { _ = try CoordinatorCommand.configuration(try coordinator(["--config", file])) }
        #expect(refusal == "\(file) cannot be read (no such file); expected a JSON file of settings.")
    }

    @Test func aMissingSettingNamesTheFileTheKeyAndWhatWasExpected() throws {
        let directory = try ConfigDirectory()
        let file = try directory.write("agent.json", #"{"coordinator": "county.example:7420"}"#)
        let refusal = sentence { _ = try AgentCommand.configuration(try agent(["--config", file])) }
        #expect(
            refusal
                == "\(file): node is missing; expected a node id "
                + "(1–64 lower-case letters, digits and '-', starting with a letter), "
                + "set there, by --node or by SUNSHINE_NODE.")
        let noCertificates = try directory.write("agent2.json", #"{"node": "township-01"}"#)
        let settings = try agent(["--config", noCertificates])
        #expect(
            sentence { _ = try CredentialOptions.resolve(node: "township-01", settings) }
                == "\(noCertificates): pki is missing; expected the directory made by `sunshine certs init`, "
                + "or cert, key and ca."
        )
        let halfCertificates = try directory.write(
            "agent3.json", #"{"node": "township-01", "cert": "\#(noCertificates)"}"#)
        #expect(
            sentence {
                _ = try CredentialOptions.resolve(node: "township-01", try agent(["--config", halfCertificates]))
            }
                == "\(halfCertificates): cert, key and ca go together; expected all three, or pki instead.")
    }

    @Test func aCertificatePathThatNamesNoFileIsRefusedWithItsKey() throws {
        let directory = try ConfigDirectory()
        let file = try directory.write(
            "agent.json", #"{"node": "township-01", "cert": "/nonexistent/township-01.pem", "pki": "/nonexistent"}"#)
        let settings = try agent(["--config", file])
        #expect(
            sentence { _ = try CredentialOptions.resolve(node: "township-01", settings) }
                == "\(file): cert must be a readable file (this node's PEM certificate), "
                + "not \"/nonexistent/township-01.pem\" (no such file)."
        )
        let pkiOnly = try directory.write("agent2.json", #"{"node": "township-01", "pki": "/nonexistent"}"#)
        #expect(
            sentence { _ = try CredentialOptions.resolve(node: "township-01", try agent(["--config", pkiOnly])) }
                == "\(pkiOnly): pki must be a directory (made by `sunshine certs init`), "
                + "not \"/nonexistent\" (no such directory)."
        )
    }

    @Test func theRunningCommandStopsAtItsStartWithTheSentence() throws {
        let directory = try ConfigDirectory()
        let file = try directory.write(
            "coordinator.json", #"{"heartbeatMs": "soon", "data": "\#(directory.path)/data"}"#)
        let result = try runProcess(SunshineExecutable.path, ["coordinator", "--config", file], timeout: 30)
        #expect(result.status != 0)
        #expect(
            result.output.split(separator: "\n")
                == ["Error: \(file): heartbeatMs must be a number of milliseconds from 100 to 600000, not \"soon\"."])
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data"), "nothing was started or created")
    }
}
