import SunshineModel

/// The persistence steps of applying a version, which each store implementation provides, so that
/// the order of those steps — and the rules, which are SunshineModel's — exist once for all stores.
protocol VersionLedger {
    /// What the store holds for `key` that decides what a new version does.
    func keyState(of key: String) throws -> KeyState?
    /// The canonical forms of the held versions of `key` whose clock equals `clock`.
    func canonicals(of key: String, clock: VersionVector) throws -> [String]
    /// Appends a version to history and the change log, chaining its head; returns its sequence number.
    func append(_ record: Record, canonical: String, flag: VersionFlag?, source: String?) throws -> Int64
    /// Replaces what is held for `key` with `state`.
    func save(_ state: KeyState, for key: String) throws
}

extension VersionLedger {
    /// DESIGN §3.6 over this store: a duplicate changes nothing; anything else joins history, and
    /// unless it is obsolete the key's state follows ``Replication/state(after:adding:to:)``.
    func applyVersion(_ record: Record, flag: VersionFlag?, source: String?) throws -> ApplyDecision {
        let previous = try keyState(of: record.key)
        let canonical = record.canonical
        let decision = Replication.decide(
            record, canonical: canonical, sameClock: try canonicals(of: record.key, clock: record.clock),
            siblings: previous?.siblings.map(\.record) ?? []
        )
        if decision == .duplicate { return decision }
        let seq = try append(record, canonical: canonical, flag: flag, source: source)
        if decision == .obsolete { return decision }
        if let next = Replication.state(after: decision, adding: StoredVersion(seq: seq, record: record, flag: flag, source: source), to: previous) {
            try save(next, for: record.key)
        }
        return decision
    }
}
