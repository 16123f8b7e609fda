/// What applying an incoming version does to a key (DESIGN §3.6). Pure, so the coordinator and
/// every agent reach the same verdict from the same versions, in any delivery order.
public enum ApplyDecision: Sendable, Equatable {
    /// Already held with the same content: nothing to do.
    case duplicate
    /// An ancestor of what is held, not held before: kept in history; the current value stays.
    case obsolete
    /// Newer than every current sibling: it becomes the only current version.
    case replaces
    /// Concurrent with at least one current sibling: kept beside it, and the key is in conflict.
    case concurrent(superseded: [String])
    /// The same clock as a held version with different content — a duplicated ballot serial or a
    /// replayed forgery. Both are kept, the key is quarantined and flagged.
    case integrityConflict
}

public enum Replication {
    /// Decides what `incoming` does, given every version held for its key (`history`) and the
    /// current siblings among them. `canonical` is the incoming record's canonical form, when the
    /// caller has it already.
    public static func decide(_ incoming: Record, canonical known: String? = nil, history: [Record], siblings: [Record]) -> ApplyDecision {
        let canonical = known ?? incoming.canonical
        var sameClockDifferentContent = false
        for held in history where held.clock == incoming.clock {
            if held.canonical == canonical { return .duplicate }
            sameClockDifferentContent = true
        }
        if sameClockDifferentContent { return .integrityConflict }
        if siblings.contains(where: { $0.clock.compare(incoming.clock) == .after }) { return .obsolete }
        let remaining = siblings.filter { incoming.clock.compare($0.clock) != .after }
        if remaining.isEmpty { return .replaces }
        return .concurrent(superseded: siblings.filter { incoming.clock.compare($0.clock) == .after }.map(\.canonical))
    }

    /// The siblings after applying a decision.
    public static func siblings(after decision: ApplyDecision, incoming: Record, siblings: [Record]) -> [Record] {
        Self.siblings(after: decision, incoming: incoming, siblings: siblings, clock: \.clock)
    }

    /// The same rule for any wrapper of a version (a store's numbered rows), given its clock.
    public static func siblings<Version>(
        after decision: ApplyDecision, incoming: Version, siblings: [Version], clock: (Version) -> VersionVector
    ) -> [Version] {
        switch decision {
        case .duplicate, .obsolete: return siblings
        case .replaces: return [incoming]
        case .concurrent:
            let incomingClock = clock(incoming)
            return siblings.filter { incomingClock.compare(clock($0)) != .after } + [incoming]
        case .integrityConflict: return siblings + [incoming]
        }
    }

    /// The clock of a new write by `node` over what it holds for the key: the join of the held
    /// versions with `node`'s entry incremented, so it dominates every one of them.
    public static func nextClock(for node: String, over held: [Record]) -> VersionVector {
        VersionVector.join(held.map(\.clock)).incremented(for: node)
    }
}

/// The one deterministic merge per kind (DESIGN §3.6): every node computes the same current value
/// from the same set of siblings, whatever order they arrived in.
public enum Merge {
    public static func current(of siblings: [Record]) -> Record? {
        guard let first = siblings.first else { return nil }
        if siblings.count == 1 { return first }
        // A fixed order independent of arrival: canonical bytes.
        let ordered = siblings.sorted { $0.canonical < $1.canonical }
        let winner = ordered.last(where: { $0.origin == Authorization.countyNode }) ?? ordered.last!
        var merged = winner
        merged.clock = VersionVector.join(ordered.map(\.clock))
        merged.deleted = ordered.allSatisfy(\.deleted)
        if first.kind == .finding, !merged.deleted {
            let live = ordered.filter { !$0.deleted }
            let findings = live.compactMap { try? RecordRules.finding($0.data) }
            if findings.count == live.count, var finding = (try? RecordRules.finding(winner.data)) ?? findings.last {
                finding.severity = findings.map(\.severity).max()!
                finding.status = findings.map(\.status).max { $0.attention < $1.attention }!
                var seen = Set<String>()
                finding.notes = findings.flatMap(\.notes).filter { seen.insert($0).inserted }
                merged.data = finding.json
            }
        }
        return merged
    }
}
