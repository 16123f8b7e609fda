import Foundation
import SunshineModel
import SunshineStore

/// A township's local records: what clerks write, committed to the township's own store first,
/// with or without network and whether or not the agent is running (DESIGN §1, §3.5).
public struct Township: Sendable {
    public let store: any ReplicaStore
    public var node: String { store.node }

    /// Checkpoint names in the township's store: the last change the county acknowledged, when
    /// this store last heard from the county (milliseconds since 1970), and whether it still owes a
    /// restored county its own versions back.
    static let acked = "acked"
    static let syncedAt = "synced_at"
    /// 1 while the county's own versions are to be returned to a county restored from a backup.
    static let returning = "returning"

    public init(store: any ReplicaStore) {
        self.store = store
    }

    /// Records one ballot paper under the key derived from its contest, round, station and serial.
    /// A key is written once (DESIGN §3.6): a second paper with a serial already used is refused,
    /// not written over the first; a wrong paper is corrected explicitly with ``correct(_:to:reason:)``.
    @discardableResult
    public func record(_ ballot: Ballot) async throws -> Record {
        try await store.write { tx in
            let key = ballot.key(township: tx.node)
            return try tx.write(kind: .ballot, key: key, township: tx.node, data: ballot.json, deleted: false, at: Date(), over: VersionVector()) { held in
                if let held { throw TownshipError.serialInUse(key: key, held: held.value) }
            }
        }
    }

    /// Corrects a recorded paper: a new version over the one held, saying why, which replaces it
    /// everywhere while history keeps both. With `corrected` nil, the paper is voided — kept in
    /// history, no longer counted.
    @discardableResult
    public func correct(_ key: String, to corrected: Ballot?, reason: String) async throws -> Record {
        try await store.write { tx in
            guard let held = try tx.current(of: key), held.value.kind == .ballot, held.value.township == tx.node else {
                throw TownshipError.noSuchPaper(key: key)
            }
            var paper = try corrected ?? RecordRules.ballot(held.value.data)
            guard paper.key(township: tx.node) == key else { throw TownshipError.correctionChangesThePaper(key: key) }
            paper.correction = reason
            return try tx.write(kind: .ballot, key: key, township: tx.node, data: paper.json, deleted: corrected == nil)
        }
    }

    /// Opens or edits a finding about this township (`finding/TOWNSHIP/ID`).
    @discardableResult
    public func write(_ finding: Finding, id: String, deleted: Bool = false) async throws -> Record {
        try await store.write { tx in
            try tx.write(kind: .finding, key: "finding/\(tx.node)/\(id)", township: tx.node, data: finding.json, deleted: deleted)
        }
    }

    /// What has not reached the county yet, by the last checkpoint it acknowledged.
    public func outbox() async throws -> (latestSeq: Int64, unsent: Int64) {
        let node = self.node
        return try await store.read { reader in
            (try reader.latestSeq(), try reader.outboxCount(of: node, after: try reader.checkpoint(Self.acked)))
        }
    }

    /// The clerk's answer to "did my ballots reach the county?": what is recorded, what is still
    /// unsent, what the county refused and why, and when the store last heard from the county.
    public func localStatus(refusals limit: Int = 20) async throws -> LocalStatus {
        let node = self.node
        return try await store.read { reader in
            let counts = try reader.counts()[node] ?? [:]
            let synced = try reader.checkpoint(Self.syncedAt)
            return LocalStatus(
                node: node, store: try reader.identity().storeID, ballots: counts[.ballot] ?? 0, findings: counts[.finding] ?? 0,
                unsent: try reader.outboxCount(of: node, after: try reader.checkpoint(Self.acked)), acknowledged: try reader.checkpoint(Self.acked),
                lastSync: synced == 0 ? nil : Date(timeIntervalSince1970: Double(synced) / 1000),
                refused: try reader.refusals(township: nil, before: nil, limit: limit), refusedTotal: try reader.refusalCounts().values.reduce(0, +)
            )
        }
    }
}

/// What a township's store holds and has sent, as its clerks see it.
public struct LocalStatus: Sendable, Equatable {
    public var node: String
    public var store: String
    public var ballots: Int
    public var findings: Int
    /// Changes not yet acknowledged by the county.
    public var unsent: Int64
    /// The last change the county acknowledged (with every one before it).
    public var acknowledged: Int64
    public var lastSync: Date?
    /// The newest versions the county refused, and how many it refused in all.
    public var refused: [Refusal]
    public var refusedTotal: Int
}

/// Why a clerk's write was refused, in one sentence saying what to do.
public enum TownshipError: Error, Sendable, Equatable, CustomStringConvertible {
    case serialInUse(key: String, held: Record)
    case noSuchPaper(key: String)
    case correctionChangesThePaper(key: String)
    case findingExists(key: String)
    case noSuchFinding(key: String)

    public var description: String {
        switch self {
        case .serialInUse(let key, let held):
            let choices = (try? RecordRules.ballot(held.data).choices.joined(separator: ", ")) ?? "?"
            return "A paper is already recorded as \(key) (choices: \(choices.isEmpty ? "none" : choices)); a second paper with the same serial is refused. "
                + "If the first was recorded wrongly, correct it with `sunshine ballot correct` or `sunshine ballot void`."
        case .noSuchPaper(let key):
            return "No paper of this township is recorded as \(key); check the contest, round, station and serial."
        case .correctionChangesThePaper(let key):
            return "A correction of \(key) must keep its contest, round, station and serial; record another paper for another serial."
        case .findingExists(let key):
            return "A finding is already recorded as \(key); edit it with `sunshine finding update` or open one under another --id."
        case .noSuchFinding(let key):
            return "No finding of this township is recorded as \(key); `sunshine finding list` shows the ids there are."
        }
    }
}
