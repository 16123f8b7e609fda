import Testing

/// Every command explains itself: `--help` prints its usage and exits 0, and a mistyped command
/// gets argument-parser's own usage error, not a wrapped one.
@Suite struct HelpTests {
    @Test(arguments: [
        [], ["status"], ["ballot"], ["ballot", "import"], ["finding", "open"], ["dashboard"], ["coordinator"], ["agent"],
        ["certs", "init"], ["backup"], ["local", "status"], ["demo"],
    ])
    func helpPrintsUsageAndSucceeds(_ command: [String]) async throws {
        let run = try await sunshine(command + ["--help"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("USAGE: sunshine"), "\(run)")
        #expect(!run.stdout.contains("CommandError") && !run.stderr.contains("CommandError"))
    }

    @Test func anUnknownCommandIsAUsageError() async throws {
        let run = try await sunshine(["ballots"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("Unexpected argument 'ballots'") && run.stderr.contains("sunshine --help"), "\(run)")
    }
}
