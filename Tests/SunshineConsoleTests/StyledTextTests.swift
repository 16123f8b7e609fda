import SunshineConsole
import Testing

@Suite struct StyledTextTests {
    let status = StyledText("offline", style: TextStyle(color: .red, bold: true)) + " since 10:42"

    @Test func colourRenderingWrapsEachStyledSpanInItsSGRCodesAndAReset() {
        #expect(status.rendered(color: true) == "\u{1B}[1;31moffline\u{1B}[0m since 10:42")
        #expect(
            StyledText("x", style: TextStyle(color: .cyan, dim: true, inverse: true)).rendered(color: true)
                == "\u{1B}[2;7;36mx\u{1B}[0m")
        #expect(StyledText("g", style: .green).rendered(color: true) == "\u{1B}[32mg\u{1B}[0m")
        #expect(StyledText("y", style: .yellow).rendered(color: true) == "\u{1B}[33my\u{1B}[0m")
    }

    @Test func plainRenderingHasNoEscapeCodes() {
        #expect(status.rendered(color: false) == "offline since 10:42")
    }

    @Test func literalsAndInterpolationsArePlainText() {
        let count = 17
        let text: StyledText = "\(count) townships"
        #expect(text.spans == [Span("17 townships")])
    }

    @Test func controlCharactersInDataCannotReachTheTerminal() {
        let name = StyledText("evil\u{1B}[2Jname\n")
        #expect(name.plainText == "evil\u{FFFD}[2Jname\u{FFFD}")
        #expect(!name.rendered(color: true).contains("\u{1B}"))
    }

    @Test func truncationKeepsStylesAndGivesTheEllipsisTheCutSpansStyle() {
        let line = StyledText("王芳", style: .bold) + StyledText(" online", style: .green)
        #expect(line.displayWidth == 11)
        let cut = line.truncated(toWidth: 8)
        #expect(cut.spans == [Span("王芳", style: .bold), Span(" on…", style: .green)])
        #expect(line.truncated(toWidth: 4).spans == [Span("王…", style: .bold)])
        #expect(line.truncated(toWidth: 11) == line)
    }

    @Test func fittingMakesACellExactlyItsWidthEvenWhenAWideCharacterWouldStraddle() {
        let cell = StyledText("李伟王芳")
        #expect(cell.fitted(toWidth: 5).plainText == "李伟…")
        #expect(cell.fitted(toWidth: 4).plainText == "李… ")
        #expect(StyledText("7").fitted(toWidth: 3, alignment: .right).plainText == "  7")
    }
}

@Suite struct ColorPolicyTests {
    @Test(arguments: [
        (true, [String: String](), true),
        (true, ["TERM": "xterm-256color"], true),
        (false, ["TERM": "xterm-256color"], false),  // a pipe or a file
        (true, ["NO_COLOR": "1"], false),
        (true, ["NO_COLOR": "0"], false),  // any non-empty value opts out
        (true, ["NO_COLOR": ""], true),  // empty means unset
        (true, ["TERM": "dumb"], false),
        (false, ["NO_COLOR": ""], false),
    ])
    func colourOnlyOnATerminalWithoutNoColorOrADumbTerm(isTerminal: Bool, environment: [String: String], color: Bool) {
        #expect(ColorPolicy.allowsColor(isTerminal: isTerminal, environment: environment) == color)
    }
}
