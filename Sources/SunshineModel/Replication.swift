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

/// Why a version was stored with a mark: a ballot that arrived after its round closed is kept,
/// quarantined and not counted.
public enum VersionFlag: String, Sendable, Hashable, Codable {
    case roundClosed = "round_closed"
}

/// One version as a store holds it: the record, its position in that store's change log
/// (DESIGN §3.5), and the mark it was stored with.
public struct StoredVersion: Sendable, Hashable {
    public var seq: Int64
    public var record: Record
    public var flag: VersionFlag?
    /// The agent store it was received from, on the coordinator; that store is never sent it back.
    public var source: String?

    public init(seq: Int64, record: Record, flag: VersionFlag? = nil, source: String? = nil) {
        self.seq = seq
        self.record = record
        self.flag = flag
        self.source = source
    }
}

/// Why a key's current siblings disagree.
public enum ConflictReason: String, Sendable, Hashable, Codable {
    /// Independent edits, neither of which saw the other.
    case concurrent
    /// Two versions with the same clock and different content.
    case integrity
}

/// What a store holds for one key that decides what the next version does: the current siblings,
/// the merged value every node shows, and whether the key is quarantined or in conflict.
public struct KeyState: Sendable, Equatable {
    public var siblings: [StoredVersion]
    public var value: Record
    public var quarantined: Bool
    public var conflict: ConflictReason?
    /// The change-log position at which the open conflict began.
    public var conflictOpenedAt: Int64?

    public init(siblings: [StoredVersion], value: Record, quarantined: Bool, conflict: ConflictReason?, conflictOpenedAt: Int64?) {
        self.siblings = siblings
        self.value = value
        self.quarantined = quarantined
        self.conflict = conflict
        self.conflictOpenedAt = conflictOpenedAt
    }

    /// The join of every held version's clock: every held version is a sibling or an ancestor of one.
    public var heldClock: VersionVector { VersionVector.join(siblings.map(\.record.clock)) }
}

public enum Replication {
    /// The most records one push may carry (DESIGN §3.3); a push is bounded in bytes too.
    public static let maxPushRecords = 1_000

    /// Decides what `incoming` does, given the canonical forms of the held versions of its key
    /// that have the same clock (`sameClock`) and the current siblings.
    ///
    /// The siblings are the held versions no other held version strictly dominates, so a key's
    /// state is a function of the set of versions held, whatever order they arrived in (DESIGN
    /// §3.6): a version some sibling dominates is obsolete even if it collides with an ancestor's
    /// clock; one that no sibling dominates joins them, replacing those it dominates.
    public static func decide(_ incoming: Record, canonical: String, sameClock: [String], siblings: [Record]) -> ApplyDecision {
        if sameClock.contains(where: { CanonicalJSON.same($0, canonical) }) { return .duplicate }
        if siblings.contains(where: { $0.clock.compare(incoming.clock) == .after }) { return .obsolete }
        let remaining = siblings.filter { incoming.clock.compare($0.clock) != .after }
        if remaining.isEmpty { return .replaces }
        if remaining.contains(where: { $0.clock == incoming.clock }) { return .integrityConflict }
        return .concurrent(superseded: siblings.filter { incoming.clock.compare($0.clock) == .after }.map(\.canonical))
    }

    /// The key's state once `version` is stored with `decision`; `previous` is the state before.
    /// A duplicate or an obsolete version leaves the state as it was.
    public static func state(after decision: ApplyDecision, adding version: StoredVersion, to previous: KeyState?) -> KeyState? {
        let siblings = previous?.siblings ?? []
        let next: [StoredVersion]
        switch decision {
        case .duplicate, .obsolete: return previous
        case .replaces, .concurrent, .integrityConflict:
            next = siblings.filter { version.record.clock.compare($0.record.clock) != .after } + [version]
        }
        guard let merged = Merge.current(of: next.map(\.record)) else { return previous }
        let clocks = next.map(\.record.clock)
        let conflict: ConflictReason? = next.count < 2 ? nil : (Set(clocks).count < clocks.count ? .integrity : .concurrent)
        return KeyState(
            siblings: next,
            value: merged,
            quarantined: (version.record.kind == .ballot && next.count > 1) || next.contains { $0.flag == .roundClosed },
            conflict: conflict,
            conflictOpenedAt: conflict == nil ? nil : (previous?.conflictOpenedAt ?? version.seq)
        )
    }

    /// The clock of a new write by `node` over what it holds for the key: the join of the held
    /// versions (`held`) with `node`'s entry incremented, so it dominates every one of them.
    public static func nextClock(for node: String, over held: VersionVector) -> VersionVector {
        held.incremented(for: node)
    }
}

/// The one deterministic merge per kind (DESIGN §3.6): every node computes the same current value
/// from the same set of siblings, whatever order they arrived in.
public enum Merge {
    public static func current(of siblings: [Record]) -> Record? {
        guard let first = siblings.first else { return nil }
        if siblings.count == 1 { return first }
        // A fixed order independent of arrival: canonical bytes.
        let ordered = siblings.sorted { CanonicalJSON.precedes($0.canonical, $1.canonical) }
        let deleted = ordered.allSatisfy(\.deleted)
        // Unless every sibling deletes the record, the value shown is a live one: a county delete
        // concurrent with a township's edit never shows the text the edit replaced.
        let candidates = deleted ? ordered : ordered.filter { !$0.deleted }
        let winner = candidates.last(where: { $0.origin == Authorization.countyNode }) ?? candidates.last!
        var merged = winner
        merged.clock = VersionVector.join(ordered.map(\.clock))
        merged.deleted = deleted
        if first.kind == .contest, !merged.deleted, let contest = try? RecordRules.contest(merged.data) {
            // Closing is one-way: whichever copy shows, it keeps every closure any copy made.
            let joined = ordered.compactMap { try? RecordRules.contest($0.data) }.reduce(contest) { $0.joiningClosures(of: $1.closed) }
            if joined.closed != contest.closed { merged.data = joined.closures(into: merged.data) }
        }
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
