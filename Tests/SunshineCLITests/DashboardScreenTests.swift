import Foundation
import SunshineConsole
import SunshineModel
import SunshineWire
import Testing

@testable import sunshine

/// The dashboard's frame as a pure function of what it knows, the window and the time.
@Suite struct DashboardScreenTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func township(
        _ number: Int, online: Bool = true, conflicts: Int = 0, rejected: Int = 0, outbox: Int64 = 0, high: Int = 0
    ) -> StatusResult.Township {
        StatusResult.Township(
            node: String(format: "township-%02d", number), online: online,
            lastSeen: now.addingTimeInterval(-30).formatted(.iso8601),
            store: nil, checkpoint: 10, reportedSeq: 12, outbox: outbox, ballots: 40, findings: 1, conflicts: conflicts,
            rejected: rejected,
            openFindings: .init(high: high)
        )
    }

    private var status: StatusResult {
        let townships =
            [
                township(1), township(2, outbox: 3), township(3, online: false), township(4, conflicts: 1),
                township(5, high: 2),
            ]
            + (6...17).map { township($0) }
        return StatusResult(
            townships: townships,
            totals: .init(
                townships: 17, online: 16, ballots: 680, findings: 17, contests: 17, openConflicts: 1, quarantined: 0,
                rejected: 0, seq: 900,
                lastChange: now.addingTimeInterval(-5).formatted(.iso8601)
            ),
            events: [
                .init(
                    id: 2, at: now.formatted(.iso8601), kind: "offline", township: "township-03",
                    message: "township-03 went offline"),
                .init(
                    id: 1, at: now.formatted(.iso8601), kind: "published",
                    message: "contest c published for township-01: 乡镇党委换届选举"),
            ]
        )
    }

    @Test func townshipsThatNeedAttentionComeFirst() {
        let order = CountyViews.byAttention(status.townships).prefix(5).map(\.node)
        #expect(order == ["township-04", "township-03", "township-02", "township-05", "township-01"])
    }

    @Test(arguments: [(120, 40), (80, 24), (52, 18), (30, 10), (12, 6)])
    func everyLineFitsTheWindowAndTheFrameItsHeight(columns: Int, rows: Int) {
        let state = DashboardState(coordinator: "127.0.0.1:7420", status: status, received: now, connection: .connected)
        let frame = DashboardScreen.frame(state, size: TerminalSize(columns: columns, rows: rows), now: now)
        let screen = frame.screen(size: TerminalSize(columns: columns, rows: rows), color: false)
        let shown = screen.replacing(/\u{1B}\[[0-9;?]*[A-Za-z]/, with: "").split(
            separator: "\r\n", omittingEmptySubsequences: false)
        #expect(shown.count <= rows, "\(screen)")
        #expect(shown.allSatisfy { $0.displayWidth <= columns }, "\(screen)")
        #expect(shown.first?.hasPrefix("Sunshine county dashboard".prefix(columns - 1)) == true)
        if rows >= 24 {
            #expect(frame.lines.count <= rows, "a window of 24 lines or more shows the whole frame, footer included")
        }
    }

    @Test func aShortWindowKeepsTheTownshipsThatNeedAttentionAndSaysHowManyAreLeftOut() {
        let state = DashboardState(coordinator: "127.0.0.1:7420", status: status, received: now, connection: .connected)
        let text = DashboardScreen.frame(state, size: TerminalSize(columns: 120, rows: 16), now: now).text()
        #expect(text.contains("township-04") && text.contains("township-03"))
        #expect(text.contains("more townships; those needing attention are listed first"), "\(text)")
        #expect(!text.contains("township-17"))
    }

    @Test func aLostConnectionIsSaidWithTheNextAttemptAndTheLastStatusStaysShown() {
        let state = DashboardState(
            coordinator: "127.0.0.1:7420", status: status, received: now.addingTimeInterval(-20),
            connection: .lost(
                reason: "Cannot reach the coordinator at 127.0.0.1:7420 (refused).", retryAt: now.addingTimeInterval(3),
                attempt: 2)
        )
        let text = DashboardScreen.frame(state, size: nil, now: now).text()
        #expect(text.contains("Not connected: Cannot reach the coordinator at 127.0.0.1:7420 (refused)."))
        #expect(text.contains("Retrying in 3 s (attempt 3); showing what it said at"))
        #expect(text.contains("township-01"))
    }

    @Test func onceWithoutAWindowShowsEveryTownshipAndColourOnlyWhenAsked() {
        let state = DashboardState(coordinator: "127.0.0.1:7420", status: status, received: now, connection: .connected)
        let frame = DashboardScreen.frame(state, size: nil, now: now)
        #expect(frame.text().contains("township-17"))
        #expect(!frame.text().contains("\u{1B}"))
        #expect(frame.text(color: true).contains("\u{1B}[1;31moffline"), "offline in bold red")
    }

    @Test func theCompetitiveRatioIsCandidatesPerSeat() {
        let contest = Contest(
            title: "t", township: "township-01", seats: 5, rounds: ["r"],
            candidates: (1...6).map { .init(id: "c\($0)", name: "n") })
        #expect(
            ContestCommand.Publish.competition(contest)
                == "6 candidates for 5 seats: competitive ratio 1.20 (20% more candidates than seats).")
        var even = contest
        even.candidates.removeLast()
        #expect(ContestCommand.Publish.competition(even).hasSuffix("(as many candidates as seats: not competitive)."))
    }
}
