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

    /// Whether `name` is an operator's: `operator`, or `operator-` followed by a name (DESIGN §3.7).
    public static func isOperatorName(_ name: String) -> Bool {
        name == "operator" || (name.hasPrefix("operator-") && name.utf8.count > "operator-".utf8.count)
    }

    /// The default township ids of a county: `township-01` … `township-NN`.
    public static func townships(_ count: Int) -> [String] {
        (1...max(count, 1)).map { number in
            let digits = String(number)
            return "township-" + String(repeating: "0", count: max(0, 2 - digits.count)) + digits
        }
    }
}

/// The writer named by a clock entry: a node in one incarnation of its store (DESIGN §3.6).
///
/// A node's counters must never be reused, yet a township PC rebuilt with an empty store, or a
/// coordinator restored from last night's backup, cannot know the counters its earlier store used.
/// So each incarnation writes under its own actor id, `NODE.INCARNATION` (12 random hex digits,
/// made when a store is created and whenever a long-running node process starts), as Riak gives
/// each vnode incarnation a fresh id: the versions of two incarnations compare as concurrent,
/// never as older or equal. A bare node id is the actor of clocks written before incarnations.
public enum Actor {
    /// Whether `actor` is a node id, optionally followed by `.` and 8 to 32 lower-case hex digits.
    public static func isValid(_ actor: String) -> Bool {
        let parts = actor.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard NodeName.isValid(String(parts[0])) else { return false }
        guard parts.count == 2 else { return true }
        return (8...32).contains(parts[1].utf8.count)
            && parts[1].utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    /// The node an actor writes for.
    public static func node(of actor: String) -> Substring {
        actor.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0]
    }

    /// A fresh actor id for `node`.
    public static func fresh(for node: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return fresh(for: node, using: &generator)
    }

    public static func fresh<Generator: RandomNumberGenerator>(for node: String, using generator: inout Generator) -> String {
        let digits = Array("0123456789abcdef")
        return node + "." + String((0..<12).map { _ in digits[Int.random(in: 0..<16, using: &generator)] })
    }
}
