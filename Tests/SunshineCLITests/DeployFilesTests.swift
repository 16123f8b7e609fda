import Foundation
import SunshineTestSupport
import Testing

/// What `deploy/` and the scripts around it ship: shell that shellcheck passes, systemd units that
/// `systemd-analyze verify` passes, with the service settings a county's administrator relies on.
@Suite struct DeployFilesTests {
    static let scripts = ["deploy/local-cluster.sh", "scripts/e2e-county", "scripts/test"]
    static let units = [
        "sunshine-coordinator.service", "sunshine-agent.service", "sunshine-backup.service", "sunshine-backup.timer",
    ]

    static func isInstalled(_ command: String) -> Bool {
        (try? runProcess("sh", ["-c", "command -v \(command)"]).status == 0) ?? false
    }

    @Test(.enabled(if: isInstalled("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)."))
    func theScriptsAreShellcheckClean() throws {
        let result = try runProcess("shellcheck", ["--external-sources"] + Self.scripts.map(RepositoryFiles.path))
        #expect(result.status == 0, "\(result.output)")
    }

    /// `systemd-analyze verify` wants the executable a unit names to exist, so the units are
    /// checked as copies naming the `sunshine` just built instead of /usr/local/bin/sunshine.
    @Test(.enabled(if: isInstalled("systemd-analyze"), "systemd-analyze is not installed (apt-get install systemd)."))
    func theUnitsPassSystemdAnalyzeVerify() throws {
        let directory = TestPKI.temporaryPath()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for unit in Self.units {
            let text = try String(contentsOfFile: RepositoryFiles.path("deploy/systemd/\(unit)"), encoding: .utf8)
            try text.replacingOccurrences(of: "/usr/local/bin/sunshine", with: SunshineExecutable.path)
                .write(toFile: "\(directory)/\(unit)", atomically: true, encoding: .utf8)
        }
        let result = try runProcess("systemd-analyze", ["verify"] + Self.units.map { "\(directory)/\($0)" })
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "\(result.output)")
    }

    @Test(arguments: ["sunshine-coordinator.service", "sunshine-agent.service"])
    func theDaemonsRunHardenedAsTheirOwnUserAndRestartOnFailure(_ unit: String) throws {
        let text = try String(contentsOfFile: RepositoryFiles.path("deploy/systemd/\(unit)"), encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for line in [
            "User=sunshine", "Group=sunshine", "StateDirectory=sunshine", "Restart=on-failure", "NoNewPrivileges=yes",
            "ProtectSystem=strict", "ReadWritePaths=/var/lib/sunshine", "PrivateTmp=yes", "ProtectHome=yes",
            "CapabilityBoundingSet=",
        ] {
            #expect(lines.contains(line), "\(unit) lacks \(line)")
        }
        let role = unit == "sunshine-coordinator.service" ? "coordinator" : "agent"
        #expect(lines.contains("ExecStart=/usr/local/bin/sunshine \(role) --config /etc/sunshine/\(role).json"))
        // SIGHUP re-reads the coordinator's revocation list; an agent has nothing to reload.
        #expect(lines.contains("ExecReload=/bin/kill -HUP $MAINPID") == (role == "coordinator"))
    }

    @Test(arguments: [
        (["start", "--townships", "18"], "--townships must be a number from 1 to 17, not \"18\"."),
        (["start", "--port", "70000"], "--port must be a port number from 1 to 65535, not \"70000\"."),
        (
            ["start", "township-99"],
            "\"township-99\" is not a node of this cluster (coordinator, township-01 ... township-17)."
        ),
        (["restart"], "\"restart\" is not a command; use start, stop or status (see --help)."),
        (
            ["start", "--bin", "/nonexistent/sunshine"],
            "/nonexistent/sunshine is not an executable; build it with `swift build` or pass --bin."
        ),
    ])
    func theClusterScriptRefusesInOneSentence(_ arguments: [String], sentence: String) throws {
        let directory = TestPKI.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try runProcess(
            "bash", [RepositoryFiles.path("deploy/local-cluster.sh")] + arguments + ["--dir", directory])
        #expect(result.status == 1)
        #expect(result.output == "local-cluster.sh: \(sentence)\n")
    }
}
