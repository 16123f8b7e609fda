import Foundation
import SunshineTestSupport
import Testing

/// A newcomer's first minute: `sunshine demo` with no arguments.
@Suite(.timeLimit(.minutes(3))) struct DemoTests {
    @Test func theDemoRunsAWholeCountyAndEndsWithATallyThatAgreesWithEveryBallot() async throws {
        let started = Date()
        let run = try await sunshine(["demo"], timeout: 120)
        let seconds = Date().timeIntervalSince(started)
        #expect(run.status == 0, "\(run)")
        #expect(seconds < 60, "the demo took \(seconds) s")
        #expect(run.stdout.contains("a county of 17 townships"))
        for step in [
            "17 agents connected", "went offline", "reconnected and caught up", "resolved it",
            "PC was rebuilt with an empty store",
            "quarantined", "The tally agrees with every ballot recorded",
        ] {
            #expect(run.stdout.contains(step), "the demo shows \"\(step)\"")
        }
        #expect(run.stdout.contains("Townships 17/17 online"))
        let tally = run.stdout.split(separator: "\n").filter { $0.hasPrefix("committee-2026-township-") }
        #expect(tally.count == 17, "one tally line per township's contest")
        #expect(tally.last?.contains("closed") == true)
        #expect(run.stdout.contains("1031 ballots in 17 rounds"), "17 × 60 ballots, 10 recorded offline, 1 late")
        #expect(run.isClean)
    }
}
