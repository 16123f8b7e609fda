/// The rules for node ids, shared by certificate issuance, `hello`, record scopes and clocks.
public enum NodeName {
    /// A node id is 1–64 characters of lower-case letters, digits and `-`, starting with a letter,
    /// so that it is safe as a file name, a record key segment and a certificate CN.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, (1...64).contains(name.utf8.count) else { return false }
        guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
    }

    /// The default township ids of a county: `township-01` … `township-NN`.
    public static func townships(_ count: Int) -> [String] {
        (1...max(count, 1)).map { number in
            let digits = String(number)
            return "township-" + String(repeating: "0", count: max(0, 2 - digits.count)) + digits
        }
    }
}
