import Foundation
import SunshineTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `sunshine agent` and `sunshine coordinator` as the service manager runs them: SIGHUP never ends
/// either, and a certificate that is not the node's own stops them at start in one sentence.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DaemonTests {
    @Test func theAgentKeepsRunningAndSyncingAfterSIGHUP() async throws {
        let county = try TestCounty(townships: 2)
        try await county.startCoordinator()
        let agent = NodeProcess(
            name: "township-01",
            arguments: ["agent", "--node", "township-01", "--coordinator", "\(county.endpoint)"] + county.operatorFlags.prefix(2)
                + ["--data", county.data, "--log-format", "text"],
            logDirectory: county.pki.directory.path
        )
        defer { agent.kill9() }
        try agent.start()
        try await eventually("the agent connects") { agent.output.contains("connected to the coordinator") }
        for _ in 1...3 { agent.signal(SIGHUP) }
        try await Task.sleep(for: .seconds(1.5))
        #expect(agent.isRunning, "the agent died on SIGHUP: \(agent.output)")
        #expect(agent.output.contains("SIGHUP ignored"), "\(agent.output)")
        let added = try await sunshine(
            ["ballot", "add"] + county.clerk("township-01")
                + ["--contest", "c", "--round", "vote-1", "--station", "s01", "--serial", "1", "--choice", "a"])
        #expect(added.status == 0, "\(added)")
        try await county.waitUntilSent("township-01")
        agent.signal(SIGTERM)
        try await eventually("the agent stops on SIGTERM") { !agent.isRunning }
        await county.stopAll()
    }

    @Test(arguments: [false, true])
    func theCoordinatorKeepsRunningAfterSIGHUPWithOrWithoutARevocationList(_ withList: Bool) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let list = pki.directory.path + "/revoked.txt"
        try "".write(toFile: list, atomically: true, encoding: .utf8)
        let coordinator = NodeProcess(
            name: "coordinator",
            arguments: [
                "coordinator", "--listen", "127.0.0.1:0", "--pki", pki.directory.path, "--data", pki.directory.path + "/data",
                "--log-format", "text",
            ] + (withList ? ["--revoked", list] : []),
            logDirectory: pki.directory.path
        )
        defer { coordinator.kill9() }
        try coordinator.start()
        try await eventually("the coordinator listens") { coordinator.output.contains("listening on") }
        coordinator.signal(SIGHUP)
        try await Task.sleep(for: .seconds(1.5))
        #expect(coordinator.isRunning, "the coordinator died on SIGHUP: \(coordinator.output)")
        let said = withList ? "reloaded \(list): 0 revoked certificates" : "SIGHUP ignored: no revocation list"
        #expect(coordinator.output.contains(said), "\(coordinator.output)")
    }

    @Test(arguments: [
        ("township-01", "is the certificate of township-01, an agent; `sunshine agent --node township-02` needs township-02's agent certificate"),
        ("operator", "is the certificate of operator, an operator; `sunshine agent --node township-02` needs township-02's agent certificate"),
        ("coordinator", "is the certificate of coordinator, a coordinator; `sunshine agent --node township-02` needs"),
    ])
    func anAgentGivenAnotherNodesCertificateStopsAtStart(_ holder: String, sentence: String) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let directory = pki.directory
        let run = try await sunshine(
            [
                "agent", "--node", "township-02", "--coordinator", "127.0.0.1:9", "--cert", directory.certificatePath(for: holder),
                "--key", directory.keyPath(for: holder), "--ca", directory.caCertificatePath, "--data", directory.path + "/data",
            ], timeout: 20)
        #expect(run.status != 0 && run.status != 15, "it must stop by itself: \(run)")
        #expect(run.stderr.contains(sentence), "\(run)")
        #expect(run.stderr.contains("sunshine certs issue --node township-02 --role agent"), "\(run)")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data/township-02.sqlite"), "nothing was started")
    }

    @Test func aCoordinatorGivenATownshipsCertificateRefusesToStart() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let run = try await sunshine(
            [
                "coordinator", "--listen", "127.0.0.1:0", "--pki", pki.directory.path, "--node", "township-01", "--data",
                pki.directory.path + "/data",
            ], timeout: 20)
        #expect(run.status != 0 && run.status != 15, "it must stop by itself: \(run)")
        #expect(run.stderr.contains("is the certificate of township-01, an agent; `sunshine coordinator --node township-01` needs"), "\(run)")
        #expect(!run.stderr.contains("listening on"), "\(run)")
    }
}
