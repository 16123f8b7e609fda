import Foundation

/// RFC 8785 (JSON Canonicalization Scheme) serialization: object members sorted by their UTF-16
/// code units, no insignificant whitespace, minimal string escaping, shortest number form.
///
/// Every node derives the same bytes from the same value, so records can be compared byte for
/// byte (a re-sent version is recognised as a duplicate), and later signed (DESIGN §3.4).
public enum CanonicalJSON {
    /// Whether two canonical forms are the same bytes. Swift's `==` on strings ignores Unicode
    /// normalisation, but two versions whose texts differ only in NFC and NFD are different content.
    public static func same(_ left: String, _ right: String) -> Bool {
        guard left.utf8.count == right.utf8.count else { return false }
        return compareBytes(left, right) == 0
    }

    /// The byte order of canonical forms: the one order every node sorts versions in.
    public static func precedes(_ left: String, _ right: String) -> Bool {
        compareBytes(left, right) < 0
    }

    /// The UTF-8 bytes of two texts compared as memcmp does, shorter first on a common prefix.
    /// Through contiguous storage: walking `String.UTF8View` byte by byte cost a durable push 7 %
    /// of its time (sunshine-bench stages), comparing each ballot's current value with its version.
    private static func compareBytes(_ left: String, _ right: String) -> Int {
        var left = left
        var right = right
        return left.withUTF8 { l in
            right.withUTF8 { r in
                let common = min(l.count, r.count)
                if common > 0, l.baseAddress != r.baseAddress {
                    let order = memcmp(l.baseAddress!, r.baseAddress!, common)
                    if order != 0 { return Int(order) }
                }
                return l.count - r.count
            }
        }
    }

    public static func string(_ value: JSONValue) -> String {
        // Built as bytes: a ballot's canonical form is written once per version on every node, and
        // appending to a byte array costs a fraction of appending to a String.
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(value, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): output.append(contentsOf: String(number).utf8)
        case .double(let number): output.append(contentsOf: format(number).utf8)
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, key) in sortedNames(members.keys).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(members[key]!, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8785's member order: by UTF-16 code units. When every name is ASCII — every name the
    /// protocol uses — that is the order of Swift's own `<`, which compares ASCII text byte by byte
    /// and far faster.
    static func sortedNames(_ names: Dictionary<String, JSONValue>.Keys) -> [String] {
        var sorted = Array(names)
        if sorted.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
            sorted.sort()
        } else {
            sorted.sort { $0.utf16.lexicographicallyPrecedes($1.utf16) }
        }
        return sorted
    }

    private static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Only control characters, the quote and the backslash are escaped; every other byte of
        // the UTF-8 form is copied as it is.
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case ..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// ECMAScript's Number-to-String for finite doubles (RFC 8785 §3.2.2.3): the shortest
    /// round-tripping digits, written plainly for 1e-6 ≤ |x| < 1e21 and in exponent form outside.
    static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == 0 { return "0" }
        // Swift's description gives the shortest round-tripping digits; take them apart into
        // digits d₁…dₖ and n such that |x| = 0.d₁…dₖ × 10ⁿ.
        let text = "\(abs(number))"
        let parts = text.split(separator: "e")
        let mantissa = String(parts[0])
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let point = mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count
        var digits = mantissa.replacingOccurrences(of: ".", with: "")
        var n = point + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            n -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let k = digits.count
        let body: String
        if k <= n && n <= 21 {
            body = digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            body = String(digits.prefix(n)) + "." + String(digits.dropFirst(n))
        } else if -6 < n && n <= 0 {
            body = "0." + String(repeating: "0", count: -n) + digits
        } else {
            let rest = digits.dropFirst()
            body = String(digits.prefix(1)) + (rest.isEmpty ? "" : "." + rest) + "e" + (n - 1 >= 0 ? "+" : "-") + String(abs(n - 1))
        }
        return (number < 0 ? "-" : "") + body
    }
}
