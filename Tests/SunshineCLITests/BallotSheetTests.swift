import Testing

@testable import sunshine

/// A CSV sheet of ballot papers: RFC 4180 fields, each row named by the line it starts on.
@Suite struct BallotSheetTests {
    @Test func rowsAreReadWithTheLineTheyStartOnEvenAcrossQuotedLineBreaks() throws {
        let sheet = try BallotSheet(
            "\u{FEFF}Serial,contest,round,station,choices\r\n1,c,vote-1,s01,\"a;b\"\n\n2,c,vote-1,s01,\"multi\nline\"\n3,c,vote-1,s01,\"say \"\"x\"\"\"\n"
        )
        #expect(sheet.rows.map(\.line) == [2, 4, 6], "the paper of line 4 spans two lines")
        #expect(sheet.rows.map(\.ballot.choices) == [["a", "b"], ["multi\nline"], ["say \"x\""]])
        #expect(sheet.problems.isEmpty, "\(sheet.problems)")
        #expect(BallotSheet.records("x,\"say \"\"hi\"\"\"\n")[0].fields == ["x", "say \"hi\""])
    }

    @Test func validDefaultsToYesAndTakesTheUsualWords() throws {
        let sheet = try BallotSheet(
            "contest,round,station,serial,choices,valid\nc,r,s,1,a,\nc,r,s,2,a,no\nc,r,s,3,a,invalid\nc,r,s,4,a,maybe\n"
        )
        #expect(sheet.rows.map(\.ballot.valid) == [true, false, false])
        #expect(sheet.problems == [.init(line: 5, message: "valid \"maybe\" is not yes or no")])
    }

    @Test func aRowWithTheWrongNumberOfFieldsOrABadIdentifierIsAProblemOfItsLine() throws {
        let sheet = try BallotSheet("contest,round,station,serial,choices\nc,r,s,1\nc,r,s t,2,a\n")
        #expect(sheet.problems.map(\.line) == [2, 3])
        #expect(sheet.problems[0].message == "4 fields where the header has 5")
    }

    @Test func aBadHeaderSaysWhatItLacksAndWhatItHasTooMuch() {
        #expect(
            throws: BallotSheet.Problem(
                line: 1,
                message:
                    "the header lacks station and has unknown columns candidate and repeats round; it must name the columns contest, round, station, serial, choices and optionally valid"
            )
        ) {
            try BallotSheet("contest,round,round,serial,choices,candidate\n")
        }
        #expect(throws: BallotSheet.Problem.self) { try BallotSheet("") }
    }

    @Test func aQuotedValueIsShownWithoutControlCharactersAndCutShort() throws {
        let sheet = try BallotSheet("contest,round,station,serial,choices\nc,r,s,\u{07}\(String(repeating: "9x", count: 500)),a\n")
        let message = try #require(sheet.problems.first).message
        #expect(message.hasPrefix("serial \"\u{FFFD}9x9x") && message.hasSuffix("…\" is not a whole number"), "\(message)")
        #expect(message.count < 80)
        #expect(BallotSheet.Problem(line: 1, message: String(repeating: "y", count: 1_000)).message.count == 401)
    }
}
