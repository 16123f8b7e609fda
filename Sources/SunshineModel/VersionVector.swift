/// A version vector (DESIGN §3.6): for each node that wrote a version of a record, how many
/// writes of it that node has made. Comparing two tells whether one version saw the other.
public struct VersionVector: Sendable, Hashable, CustomStringConvertible {
    /// How two versions relate.
    public enum Ordering: Sendable, Equatable {
        case equal
        /// The left version is an ancestor of the right one.
        case before
        /// The left version descends from the right one.
        case after
        /// Neither saw the other: written independently.
        case concurrent
    }

    public private(set) var counters: [String: UInt64]

    public init(_ counters: [String: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    public subscript(node: String) -> UInt64 { counters[node] ?? 0 }

    public var isEmpty: Bool { counters.isEmpty }

    public func compare(_ other: VersionVector) -> Ordering {
        var less = false
        var greater = false
        for node in Set(counters.keys).union(other.counters.keys) {
            let mine = self[node]
            let theirs = other[node]
            if mine < theirs { less = true } else if mine > theirs { greater = true }
            if less && greater { return .concurrent }
        }
        switch (less, greater) {
        case (false, false): return .equal
        case (true, false): return .before
        case (false, true): return .after
        case (true, true): return .concurrent
        }
    }

    /// The element-wise maximum: a clock that has seen everything either has seen.
    public func joined(with other: VersionVector) -> VersionVector {
        VersionVector(counters.merging(other.counters, uniquingKeysWith: max))
    }

    /// This clock with `node`'s entry advanced by one: the clock of a new write by `node`.
    public func incremented(for node: String) -> VersionVector {
        var next = counters
        next[node, default: 0] += 1
        return VersionVector(next)
    }

    /// Whether this clock has seen every write `other` has seen (`after` or `equal`).
    public func dominates(_ other: VersionVector) -> Bool {
        let ordering = compare(other)
        return ordering == .after || ordering == .equal
    }

    /// The join of many clocks (empty for none).
    public static func join<Clocks: Sequence>(_ clocks: Clocks) -> VersionVector where Clocks.Element == VersionVector {
        clocks.reduce(VersionVector()) { $0.joined(with: $1) }
    }

    public var json: JSONValue {
        .object(counters.mapValues { .int(Int64(clamping: $0)) })
    }

    public var description: String { CanonicalJSON.string(json) }
}
