import Foundation
import SunshineModel
import Synchronization

/// What the county knows about each node's connection: online or not, when it was last heard
/// from, and what it last reported. Operators read it through `status`.
public final class Presence: Sendable {
    public struct Entry: Sendable, Equatable {
        public var node: String
        public var role: NodeRole
        /// Open connections from this node (normally 0 or 1).
        public var connections: Int
        public var lastSeen: Date
        /// The agent's newest local change-log sequence number, as last reported.
        public var reportedSeq: Int64?
        /// How many of its changes the agent had not yet had acknowledged, as last reported.
        public var reportedOutbox: Int64?

        public var online: Bool { connections > 0 }
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
    }

    public func connected(_ identity: NodeIdentity) {
        let now = clock()
        entries.withLock { entries in
            var entry = entries[identity.node] ?? Entry(node: identity.node, role: identity.role, connections: 0, lastSeen: now)
            entry.connections += 1
            entry.lastSeen = now
            entries[identity.node] = entry
        }
    }

    /// The node spoke; an agent's report carries its newest sequence number and unsent changes.
    public func heard(from node: String, seq: Int64? = nil, outbox: Int64? = nil) {
        let now = clock()
        entries.withLock { entries in
            entries[node]?.lastSeen = now
            if let seq { entries[node]?.reportedSeq = seq }
            if let outbox { entries[node]?.reportedOutbox = outbox }
        }
    }

    public func disconnected(_ node: String) {
        let now = clock()
        entries.withLock { entries in
            guard var entry = entries[node] else { return }
            entry.connections = max(0, entry.connections - 1)
            entry.lastSeen = now
            entries[node] = entry
        }
    }

    public var all: [Entry] { entries.withLock { $0.values.sorted { $0.node < $1.node } } }
}
