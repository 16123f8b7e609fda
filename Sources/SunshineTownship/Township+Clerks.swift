import Foundation
import SunshineModel
import SunshineStore

/// What a township's clerks read and write beyond single papers: a sheet of papers at once,
/// findings opened and edited by id, and the lists of both with whether each reached the county.
extension Township {
    /// Records several papers in one transaction: all of them, or — when one's serial is in use —
    /// none (``TownshipError/serialInUse(key:held:)`` for the first such paper).
    @discardableResult
    public func record(_ ballots: [Ballot]) async throws -> [Record] {
        try await store.write { tx in
            try ballots.map { ballot in
                let key = ballot.key(township: tx.node)
                // The key read once, by the write itself (a clerk's command and an import of
                // 100,000 rows pay for each read).
                return try tx.write(kind: .ballot, key: key, township: tx.node, data: ballot.json, deleted: false, at: Date(), over: VersionVector()) {
                    if let held = $0 { throw TownshipError.serialInUse(key: key, held: held.value) }
                }
            }
        }
    }

    /// Opens a new finding about this township under `id`, refusing an id already used; without
    /// one, under the next free `f-NNN` — chosen in the same transaction as the write, so that
    /// clerks opening findings at once each get their own.
    @discardableResult
    public func open(_ finding: Finding, id: String? = nil) async throws -> Record {
        try await store.write { tx in
            let key = Self.findingKey(township: tx.node, id: try id ?? Self.nextFindingID(in: tx))
            if try tx.current(of: key) != nil { throw TownshipError.findingExists(key: key) }
            return try tx.write(kind: .finding, key: key, township: tx.node, data: finding.json)
        }
    }

    /// `f-001`, `f-002`, …: one more than the highest such id of this township.
    static func nextFindingID(in tx: some StoreTransaction) throws -> String {
        let prefix = findingKey(township: tx.node, id: "f-")
        let numbers = try tx.currentValues(kind: .finding).map(\.value.key).compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }
        return String(format: "f-%03d", (numbers.max() ?? 0) + 1)
    }

    /// Edits this township's finding `id`: `change` is applied to the value every node shows now
    /// (the merged one, while a conflict is open), and the result written over every version held.
    @discardableResult
    public func editFinding(_ id: String, _ change: @Sendable (inout Finding) -> Void) async throws -> Record {
        try await store.write { tx in
            let key = Self.findingKey(township: tx.node, id: id)
            guard let held = try tx.current(of: key), !held.value.deleted,
                var finding = try? RecordRules.finding(held.value.data)
            else {
                throw TownshipError.noSuchFinding(key: key)
            }
            change(&finding)
            return try tx.write(kind: .finding, key: key, township: tx.node, data: finding.json)
        }
    }

    /// The key of this township's finding `id`.
    public static func findingKey(township: String, id: String) -> String { "finding/\(township)/\(id)" }

    /// This township's papers as recorded here, voided ones included, by key.
    public func ballots() async throws -> [LocalRecord<Ballot>] {
        try await localRecords(kind: .ballot, all: false) { try? RecordRules.ballot($0) }
    }

    /// The findings held here: this township's own, or with `all` every township's (findings are county-wide).
    public func findings(all: Bool = false) async throws -> [LocalRecord<Finding>] {
        try await localRecords(kind: .finding, all: all) { try? RecordRules.finding($0) }
    }

    private func localRecords<Value: Sendable>(
        kind: RecordKind, all: Bool, _ read: @escaping @Sendable (JSONValue) -> Value?
    ) async throws -> [LocalRecord<Value>] {
        let node = self.node
        return try await store.read { reader in
            let acked = try reader.checkpoint(Self.acked)
            var unsent: Set<String> = []
            var after = acked
            while true {
                let page = try reader.outbox(of: node, after: after, limit: 5_000)
                guard let last = page.last else { break }
                unsent.formUnion(page.map(\.record.key))
                after = last.seq
            }
            return try reader.currentRecords(kind: kind).compactMap { current in
                let record = current.value
                guard all || record.township == node, let value = read(record.data) else { return nil }
                return LocalRecord(
                    record: record, value: value, quarantined: current.quarantined, inConflict: current.inConflict,
                    sent: record.origin != node || !unsent.contains(record.key)
                )
            }
        }
    }
}

/// A record as a township's store holds it: its current version, read as its kind, and where it stands.
public struct LocalRecord<Value: Sendable>: Sendable {
    /// The version every node shows now.
    public var record: Record
    public var value: Value
    /// Held aside: a duplicated serial, or a ballot after its round closed.
    public var quarantined: Bool
    /// Versions that disagree are held; an operator (or a later edit here) ends it.
    public var inConflict: Bool
    /// The county acknowledged it — or it came from the county.
    public var sent: Bool
}
