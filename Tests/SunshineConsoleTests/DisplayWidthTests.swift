import SunshineConsole
import Testing

@Suite struct DisplayWidthTests {
    @Test(arguments: [
        ("township-03", 11),
        ("李伟", 4),
        ("王芳", 4),
        ("township-03 王芳", 16),
        ("한국", 4),  // Hangul syllables
        ("ＡＢ", 4),  // fullwidth Latin
        ("カタカナ", 8),
        ("e\u{301}", 1),  // e + combining acute accent
        ("\u{1100}\u{1161}\u{11A8}", 2),  // Hangul syllable from conjoining Jamo
        ("a\u{200B}b", 2),  // zero-width space
        ("🗳️", 2),  // ballot box, text symbol with the emoji selector
        ("✅", 2),
        ("👩‍👩‍👧", 2),  // joined by zero-width joiners
        ("", 0),
        ("…", 1),
    ])
    func displayWidthCountsTerminalColumns(text: String, columns: Int) {
        #expect(text.displayWidth == columns)
    }

    @Test(arguments: [
        ("township-03", 20, "township-03"),
        ("township-03", 11, "township-03"),
        ("township-03", 8, "townshi…"),
        ("李伟王芳", 8, "李伟王芳"),
        ("李伟王芳", 7, "李伟王…"),
        ("李伟王芳", 6, "李伟…"),  // 李伟王 would take 6 and leave no room for the ellipsis
        ("township-03 王芳", 14, "township-03 …"),  // 王 would straddle the edge
        ("township-03 王芳", 15, "township-03 王…"),
        ("李伟", 1, "…"),
        ("李伟", 0, ""),
    ])
    func truncationEndsInAnEllipsisAndNeverSplitsAWideCharacter(text: String, width: Int, expected: String) {
        let cut = text.truncated(toWidth: width)
        #expect(cut == expected)
        #expect(cut.displayWidth <= width)
    }

    @Test func truncationKeepsCombiningMarksWithTheirLetter() {
        #expect("cafe\u{301}s!".truncated(toWidth: 5) == "cafe\u{301}…")
    }

    @Test(arguments: [
        ("李伟", 6, Alignment.left, "李伟  "),
        ("李伟", 6, Alignment.right, "  李伟"),
        ("42", 5, Alignment.right, "   42"),
        ("township-03", 4, Alignment.left, "township-03"),
    ])
    func paddingFillsToTheWidthInColumnsAndLeavesWiderTextAlone(
        text: String, width: Int, alignment: Alignment, expected: String
    ) {
        #expect(text.padded(toWidth: width, alignment: alignment) == expected)
    }
}
