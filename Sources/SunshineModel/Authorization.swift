/// Who may write what (DESIGN §3.7), as pure rules the coordinator applies to every pushed record.
public enum Authorization {
    /// The node id the county writes as (`put`, `resolve`).
    public static let countyNode = "coordinator"

    /// Checks a record an agent pushed: its own township's scope, itself as origin, never a
    /// county-only kind, and no other node's clock entry beyond what the coordinator holds for
    /// the key (`held`, the join of every version it has).
    public static func checkPush(_ record: Record, by agent: String, held: VersionVector) throws(RecordError) {
        guard record.township == agent else {
            throw .forbidden("\(agent) may push only its own township's records, not one scoped to \(record.township)")
        }
        guard record.origin == agent else {
            throw .forbidden("the origin is \(record.origin), but only \(agent) itself can be the origin of what \(agent) pushes")
        }
        guard !record.kind.isCountyOnly else {
            throw .forbidden("\(record.kind.rawValue) records are written by the county only")
        }
        for (actor, counter) in record.clock.counters.sorted(by: { $0.key < $1.key }) where Actor.node(of: actor) != agent && counter > held[actor] {
            throw .forgedClock(
                "the clock raises \(actor)'s entry to \(counter), beyond the \(held[actor]) the coordinator holds; an agent may advance only its own entries"
            )
        }
    }
}
