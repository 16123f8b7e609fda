// Display width is written here rather than taken from a library: console-kit measures with
// `String.count` and Rainbow does not measure at all, so neither lays out "李伟" as the four columns
// a terminal gives it; glibc's wcwidth(3) depends on the process locale, which a library must not set.

/// How many terminal columns a Unicode scalar occupies, after Unicode's East Asian Width (UAX #11).
///
/// Wide and Fullwidth characters (CJK ideographs, kana, Hangul, fullwidth forms) and emoji shown
/// as pictures take two columns; combining marks, format characters (zero-width space, joiners)
/// and control characters take none; everything else, ASCII included, takes one. Ambiguous-width
/// characters count as one, as terminals outside CJK locales draw them.
enum ScalarWidth {
    /// Ranges whose East Asian Width is Wide or Fullwidth, apart from emoji (found by their
    /// `Emoji_Presentation` property instead). Sorted, for a binary search.
    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F,  // Hangul Jamo leading consonants
        0x2329...0x232A,  // angle brackets
        0x2630...0x2637,  // trigrams
        0x268A...0x268F,  // digrams
        0x2E80...0x303E,  // CJK radicals, Kangxi radicals, CJK symbols and punctuation
        0x3041...0x3247,  // kana, Bopomofo, Hangul compatibility Jamo, enclosed CJK
        0x3250...0x33FF,  // enclosed CJK, CJK compatibility
        0x3400...0x4DFF,  // CJK Unified Ideographs Extension A, Yijing hexagrams
        0x4E00...0x9FFF,  // CJK Unified Ideographs
        0xA000...0xA4CF,  // Yi
        0xA960...0xA97F,  // Hangul Jamo Extended-A
        0xAC00...0xD7A3,  // Hangul syllables
        0xF900...0xFAFF,  // CJK compatibility ideographs
        0xFE10...0xFE19,  // vertical forms
        0xFE30...0xFE6F,  // CJK compatibility forms, small form variants
        0xFF00...0xFF60,  // fullwidth ASCII variants
        0xFFE0...0xFFE6,  // fullwidth signs
        0x16FE0...0x16FE4,  // ideographic symbols
        0x17000...0x18D08,  // Tangut, Khitan
        0x1AFF0...0x1B2FF,  // kana supplement and extensions, Nushu
        0x1D300...0x1D376,  // Tai Xuan Jing symbols, counting rods
        0x1F200...0x1F2FF,  // enclosed ideographic supplement
        0x20000...0x3FFFD,  // CJK Unified Ideographs Extensions B and later
    ]

    /// The columns `scalar` occupies: 0, 1 or 2.
    static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x7F { return value < 0x20 ? 0 : 1 }
        if value < 0xA0 { return 0 }
        if (0x1160...0x11FF).contains(value) || (0xD7B0...0xD7FF).contains(value) {
            return 0  // Hangul medial vowels and final consonants join the syllable before them
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if scalar.properties.isEmojiPresentation { return 2 }
        var low = 0
        var high = wideRanges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if value < wideRanges[middle].lowerBound {
                high = middle - 1
            } else if value > wideRanges[middle].upperBound {
                low = middle + 1
            } else {
                return 2
            }
        }
        return 1
    }
}

/// Which side of a column padding goes, so that text sits against the other.
public enum Alignment: Sendable, Hashable {
    /// Text starts at the left edge; padding follows it. For names and words.
    case left
    /// Text ends at the right edge; padding precedes it. For numbers, so their digits line up.
    case right
}

extension Character {
    /// The terminal columns this character (one grapheme cluster) occupies: its widest scalar, so a
    /// base letter with combining accents stays one column and an emoji sequence joined by zero-width
    /// joiners two; a text-style symbol followed by the emoji selector U+FE0F is drawn as an emoji, two.
    public var displayWidth: Int {
        var width = 0
        for scalar in unicodeScalars {
            if scalar.value == 0xFE0F, unicodeScalars.first?.properties.isEmoji == true { return 2 }
            width = max(width, ScalarWidth.of(scalar))
        }
        return width
    }
}

extension StringProtocol {
    /// The terminal columns this text occupies, counting wide characters as two and combining
    /// marks as none, so that columns of names in any script line up.
    public var displayWidth: Int {
        reduce(0) { $0 + $1.displayWidth }
    }

    /// The longest leading part of this text that fits in `width` columns, never splitting a
    /// character, with the columns it takes.
    func prefix(fittingWidth width: Int) -> (text: String, width: Int) {
        var used = 0
        var end = startIndex
        for character in self {
            let next = used + character.displayWidth
            if next > width { break }
            used = next
            end = index(after: end)
        }
        return (String(self[..<end]), used)
    }

    /// This text cut to at most `width` columns, ending in `ellipsis` when something was cut; a
    /// wide character that would straddle the edge is left out whole, so the result may be one
    /// column narrower than `width`.
    public func truncated(toWidth width: Int, ellipsis: String = "…") -> String {
        guard displayWidth > width else { return String(self) }
        let ellipsisWidth = ellipsis.displayWidth
        guard width >= ellipsisWidth else { return prefix(fittingWidth: width).text }
        return prefix(fittingWidth: width - ellipsisWidth).text + ellipsis
    }

    /// This text with spaces added to fill `width` columns, placed by `alignment`; text already
    /// that wide or wider comes back unchanged (use `truncated(toWidth:)` first to bound it).
    public func padded(toWidth width: Int, alignment: Alignment = .left) -> String {
        let gap = String(repeating: " ", count: Swift.max(0, width - displayWidth))
        return alignment == .left ? String(self) + gap : gap + String(self)
    }
}
