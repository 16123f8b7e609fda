import SunshineModel

/// The decision and the siblings a store reaches, stated over plain lists of versions, so the
/// pure rules can be tested on their own.
extension Replication {
    static func decide(_ incoming: Record, history: [Record], siblings: [Record]) -> ApplyDecision {
        decide(
            incoming, canonical: incoming.canonical, sameClock: history.filter { $0.clock == incoming.clock }.map(\.canonical),
            siblings: siblings
        )
    }

    static func siblings(after decision: ApplyDecision, incoming: Record, siblings: [Record]) -> [Record] {
        let previous = siblings.isEmpty ? nil : KeyState(
            siblings: siblings.enumerated().map { StoredVersion(seq: Int64($0.offset + 1), record: $0.element) },
            value: Merge.current(of: siblings)!, quarantined: false, conflict: nil, conflictOpenedAt: nil
        )
        let next = state(after: decision, adding: StoredVersion(seq: Int64(siblings.count + 1), record: incoming), to: previous)
        return next?.siblings.map(\.record) ?? []
    }

    static func nextClock(for node: String, over held: [Record]) -> VersionVector {
        nextClock(for: node, over: VersionVector.join(held.map(\.clock)))
    }
}
