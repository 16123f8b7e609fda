import SunshineConsole
import Testing

/// The township table as the dashboard lays it out: the name gives way first by truncation, the
/// columns that matter least are dropped first.
let townships = Table(
    columns: [
        TableColumn("TOWNSHIP", minWidth: 8, priority: 100, flexible: true),
        TableColumn("STATE", priority: 90),
        TableColumn("LAST SEEN", priority: 50),
        TableColumn("ACK/SEQ", alignment: .right, priority: 80),
        TableColumn("OUTBOX", alignment: .right, priority: 70),
        TableColumn("BALLOTS", alignment: .right, priority: 60),
        TableColumn("FINDINGS", priority: 40),
        TableColumn("CONFLICTS", alignment: .right, priority: 30),
        TableColumn("REJECTED", alignment: .right, priority: 20),
    ],
    rows: [
        [
            "township-03 王芳", StyledText("offline", style: .red), "10:41:52", "1200/1250", "50", "812",
            "2H 1M 0L", "1", "0",
        ],
        [
            "township-01 李伟", StyledText("online", style: .green), "10:42:07", "988/988", "0", "1024",
            "0H 0M 3L", "0", "2",
        ],
        ["township-17", StyledText("online", style: .green), "10:42:07", "77/77", "0", "96", "", "0", "0"],
    ]
)

@Suite struct TableTests {
    @Test func atOneHundredTwentyColumnsEveryColumnHasItsNaturalWidth() {
        #expect(townships.columnWidths(fitting: 120) == [16, 7, 9, 9, 6, 7, 8, 9, 8])
        let lines = townships.lines(width: 120)
        #expect(
            lines.map(\.plainText) == [
                "TOWNSHIP          STATE    LAST SEEN    ACK/SEQ  OUTBOX  BALLOTS  FINDINGS  CONFLICTS  REJECTED",
                "township-03 王芳  offline  10:41:52   1200/1250      50      812  2H 1M 0L          1         0",
                "township-01 李伟  online   10:42:07     988/988       0     1024  0H 0M 3L          0         2",
                "township-17       online   10:42:07       77/77       0       96                    0         0",
            ])
        #expect(lines.allSatisfy { $0.displayWidth == 95 })
    }

    @Test func atEightyColumnsTheLowestPriorityColumnGoesAndTheNameIsTruncated() {
        #expect(townships.columnWidths(fitting: 80) == [11, 7, 9, 9, 6, 7, 8, 9, nil])
        let lines = townships.lines(width: 80).map(\.plainText)
        #expect(lines[0].hasPrefix("TOWNSHIP     STATE"))
        #expect(lines[1].hasPrefix("township-0…  offline"))
        #expect(lines[3].hasPrefix("township-17  online"))
        #expect(!lines[0].contains("REJECTED"))
    }

    @Test func atFortyColumnsOnlyTheMostImportantColumnsRemain() {
        #expect(townships.columnWidths(fitting: 40) == [12, 7, nil, 9, 6, nil, nil, nil, nil])
        #expect(
            townships.lines(width: 40).map(\.plainText) == [
                "TOWNSHIP      STATE      ACK/SEQ  OUTBOX",
                "township-03…  offline  1200/1250      50",
                "township-01…  online     988/988       0",
                "township-17   online       77/77       0",
            ])
    }

    @Test func aWideCharacterAtTheTruncationEdgeIsReplacedByASpace() {
        // 15 columns for the name: "township-03 王" is 14 and "…" one more.
        let widths = townships.columnWidths(fitting: 84)
        #expect(widths[0] == 15)
        let lines = townships.lines(width: 84)
        #expect(lines[1].plainText.hasPrefix("township-03 王…  offline"))
        #expect(townships.lines(width: 83)[1].plainText.hasPrefix("township-03 …   offline"))
    }

    @Test(arguments: 0...130)
    func noLineIsEverWiderThanTheAvailableWidth(width: Int) {
        for line in townships.lines(width: width) {
            #expect(line.displayWidth <= width)
        }
    }

    @Test func cellsKeepTheirStylesInTheLayout() {
        let line = townships.lines(width: 120)[1]
        #expect(line.spans.contains(Span("offline", style: .red)))
        #expect(townships.lines(width: 120)[0].spans.first == Span("TOWNSHIP", style: .bold))
    }

    @Test func columnsOfEqualPriorityAreDroppedFromTheRight() {
        let table = Table(
            columns: [TableColumn("A"), TableColumn("B"), TableColumn("C")], rows: [["aaaa", "bbbb", "cccc"]])
        #expect(table.columnWidths(fitting: 10) == [4, 4, nil])
        #expect(table.lines(width: 10).map(\.plainText) == ["A     B   ", "aaaa  bbbb"])
    }
}
