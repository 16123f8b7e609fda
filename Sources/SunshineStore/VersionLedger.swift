import Foundation
import SunshineModel

/// The persistence steps of applying a version, which each store implementation provides, so that
/// the order of those steps — and the rules, which are SunshineModel's — exist once for all stores.
protocol VersionLedger {
    /// What the store holds for `key` that decides what a new version does.
    func keyState(of key: String) throws -> KeyState?
    /// The canonical forms of the held versions of `key` whose clock equals `clock`.
    func canonicals(of key: String, clock: VersionVector) throws -> [String]
    /// The sequence number the next version appended will get.
    func nextSeq() throws -> Int64
    /// Appends a version to history and the change log, chaining its head; returns its sequence number.
    func append(_ record: Record, canonical: String, flag: VersionFlag?, source: String?) throws -> Int64
    /// Replaces what is held for `key` — `previous` — with `state`.
    func save(_ state: KeyState, for key: String, replacing previous: KeyState?) throws
    /// Adds `delta` to the count of current, not deleted records of a scope and kind.
    func adjustCount(township: String, kind: RecordKind, by delta: Int) throws
    /// Replaces the tally's entry for a ballot key (nil: the paper counts nowhere now).
    func saveBallotGroup(_ group: BallotGroup?, for key: String) throws
}

extension VersionLedger {
    /// DESIGN §3.6 over this store: a duplicate changes nothing; anything else joins history, and
    /// unless it is obsolete the key's state follows ``Replication/state(after:adding:to:)``.
    func applyVersion(_ record: Record, flag: VersionFlag?, source: String?) throws -> ApplyDecision {
        switch try offerVersion(record, flag: flag, source: source, authorize: { _ in }) {
        case .duplicate: return .duplicate
        case .applied(let decision): return decision
        case .refused(let error): throw error
        }
    }

    /// DESIGN §3.6 for a version another node offers, reading the key once: duplicate, refused by
    /// `authorize`, or applied.
    func offerVersion(
        _ record: Record, flag: VersionFlag?, source: String?, authorize: (VersionVector) throws(RecordError) -> Void
    ) throws -> Offered {
        let canonical = record.canonical
        let previous = try keyState(of: record.key)
        // A key with no state has no history either (every version appended to it leaves one), so
        // a new key — most of what a township pushes — costs no search for equal clocks.
        let sameClock = previous == nil ? [] : try canonicals(of: record.key, clock: record.clock)
        if sameClock.contains(where: { CanonicalJSON.same($0, canonical) }) { return .duplicate }
        do throws(RecordError) {
            try authorize(previous?.heldClock ?? VersionVector())
        } catch {
            return .refused(error)
        }
        let decision = Replication.decide(record, canonical: canonical, sameClock: sameClock, siblings: previous?.siblings.map(\.record) ?? [])
        if decision != .duplicate { try store(record, canonical: canonical, decision: decision, flag: flag, source: source, previous: previous) }
        return .applied(decision)
    }

    /// A local write, reading the key once: the new version's clock is the join of everything held
    /// with this store's actor advanced, so it replaces every sibling (no equal-clock version can be
    /// held: the actor's counter was never used for this key).
    func writeVersion(
        kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool, at date: Date, over extra: VersionVector,
        node: String, identity: StoreIdentity, check: (CurrentRecord?) throws -> Void
    ) throws -> Record {
        let previous = try keyState(of: key)
        try check(previous.map(CurrentRecord.init))
        let held = (previous?.heldClock ?? VersionVector()).joined(with: extra)
        // A ballot says which store wrote it and as which change, for the round-closure rule.
        let written = kind == .ballot ? WrittenAt(store: identity.storeID, seq: try nextSeq()) : nil
        let record = Record(
            key: key, kind: kind, township: township, clock: Replication.nextClock(for: identity.actor, over: held), origin: node,
            at: date.formatted(.iso8601), deleted: deleted, data: data, written: written
        )
        try RecordRules.validate(record)
        let seq = try store(record, canonical: record.canonical, decision: .replaces, flag: nil, source: nil, previous: previous)
        if let written, written.seq != seq {
            throw StoreError("The store gave change \(seq) to a ballot written as change \(written.seq); nothing was written.")
        }
        return record
    }

    /// Appends a version that is not a duplicate and, unless it is obsolete, makes the key's state
    /// follow; returns its sequence number.
    @discardableResult
    private func store(
        _ record: Record, canonical: String, decision: ApplyDecision, flag: VersionFlag?, source: String?, previous: KeyState?
    ) throws -> Int64 {
        let seq = try append(record, canonical: canonical, flag: flag, source: source)
        if decision == .obsolete { return seq }
        if let next = Replication.state(after: decision, adding: StoredVersion(seq: seq, record: record, flag: flag, source: source), to: previous) {
            try save(next, for: record.key, replacing: previous)
            try recount(record.key, from: previous, to: next)
        }
        return seq
    }

    /// Keeps what `status` and `tally` read up to date as a key changes, so neither reads every
    /// record (DESIGN §1: a province holds millions).
    private func recount(_ key: String, from previous: KeyState?, to next: KeyState) throws {
        let before = previous.flatMap { $0.value.deleted ? nil : ($0.value.township, $0.value.kind) }
        let after = next.value.deleted ? nil : (next.value.township, next.value.kind)
        if before?.0 != after?.0 || before?.1 != after?.1 {
            if let before { try adjustCount(township: before.0, kind: before.1, by: -1) }
            if let after { try adjustCount(township: after.0, kind: after.1, by: 1) }
        }
        if next.value.kind == .ballot { try saveBallotGroup(BallotGroup(next.value, quarantined: next.quarantined), for: key) }
    }
}
