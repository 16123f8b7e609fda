import Foundation
import SunshineModel
import SunshineStore

/// A township's local records: what clerks write, committed to the township's own store first,
/// with or without network and whether or not the agent is running (DESIGN §1, §3.5).
public struct Township: Sendable {
    public let store: any ReplicaStore
    public var node: String { store.node }

    /// Checkpoint names in the township's store: the last change the county acknowledged, and the
    /// county's change-log position the township has pulled up to.
    static let acked = "acked"
    static let pulled = "pulled"

    public init(store: any ReplicaStore) {
        self.store = store
    }

    /// Records one ballot paper under the key derived from its contest, round, station and serial.
    @discardableResult
    public func record(_ ballot: Ballot) async throws -> Record {
        try await store.write { tx in
            try tx.write(kind: .ballot, key: ballot.key(township: tx.node), township: tx.node, data: ballot.json)
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
}
