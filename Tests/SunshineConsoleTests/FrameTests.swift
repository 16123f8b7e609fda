import SunshineConsole
import Testing

@Suite struct FrameTests {
    let frame = Frame([
        StyledText("SUNSHINE", style: .bold) + "  17 townships",
        "township-03 王芳  offline",
        "",
    ])

    @Test func aFullScreenRedrawHomesTheCursorClearsEachLineAndTheRestOfTheScreen() {
        #expect(
            frame.screen(size: TerminalSize(columns: 80, rows: 24), color: true)
                == [
                    "\u{1B}[H\u{1B}[1mSUNSHINE\u{1B}[0m  17 townships\u{1B}[K",
                    "township-03 王芳  offline\u{1B}[K",
                    "\u{1B}[K",
                    "\u{1B}[J",
                ].joined(separator: "\r\n"))
    }

    @Test func linesAreCutToTheScreenWidthInDisplayColumns() {
        let screen = frame.screen(size: TerminalSize(columns: 14, rows: 24), color: false)
        #expect(screen.contains("SUNSHINE  17 …\r\n"))  // fills the width, so no erase
        #expect(screen.contains("\r\ntownship-03 …\u{1B}[K"))
    }

    @Test func aLineThatFillsTheWidthIsNotFollowedByAnEraseThatWouldEatItsLastCharacter() {
        let screen = Frame(["0123456789", "ab"]).screen(size: TerminalSize(columns: 10, rows: 5), color: false)
        #expect(screen == "\u{1B}[H0123456789\r\nab\u{1B}[K\r\n\u{1B}[J")
    }

    @Test func linesBeyondTheScreenHeightAreLeftOutAndTheLastRowIsNotScrolled() {
        let tall = Frame((1...30).map { StyledText("line \($0)") })
        let screen = tall.screen(size: TerminalSize(columns: 80, rows: 24), color: false)
        #expect(screen.contains("line 24\u{1B}[K"))
        #expect(!screen.contains("line 25"))
        #expect(!screen.hasSuffix("\r\n") && !screen.hasSuffix("\u{1B}[J"))
        #expect(screen.split(separator: "\r\n").count == 24)
    }

    @Test func anEmptyFrameClearsTheScreen() {
        #expect(Frame().screen(size: TerminalSize(columns: 80, rows: 24), color: true) == "\u{1B}[H\u{1B}[J")
    }

    @Test func plainTextHasNoEscapeCodesAndEndsEachLineWithANewline() {
        let text = frame.text()
        #expect(text == "SUNSHINE  17 townships\ntownship-03 王芳  offline\n\n")
        #expect(!text.contains("\u{1B}"))
        #expect(frame.text(width: 14) == "SUNSHINE  17 …\ntownship-03 …\n\n")
    }

    @Test func textCarriesColourOnlyWhenAskedTo() {
        #expect(frame.text(color: true).hasPrefix("\u{1B}[1mSUNSHINE\u{1B}[0m  17 townships\n"))
    }
}
