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
    /// The agent stores that reported an empty outbox since this coordinator started.
    private let caughtUp = Mutex<Set<AgentSession>>([])
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
    }

    /// A connection from the node opened; returns whether the node was offline until now.
    @discardableResult
    public func connected(_ identity: NodeIdentity) -> Bool {
        let now = clock()
        return entries.withLock { entries in
            var entry = entries[identity.node] ?? Entry(node: identity.node, role: identity.role, connections: 0, lastSeen: now)
            entry.connections += 1
            entry.lastSeen = now
            entries[identity.node] = entry
            return entry.connections == 1
        }
    }

    /// The node spoke; an agent's report carries its newest sequence number and unsent changes,
    /// and the store it speaks for.
    public func heard(from node: String, store: String? = nil, seq: Int64? = nil, outbox: Int64? = nil) {
        let now = clock()
        entries.withLock { entries in
            entries[node]?.lastSeen = now
            if let seq { entries[node]?.reportedSeq = seq }
            if let outbox { entries[node]?.reportedOutbox = outbox }
        }
        if outbox == 0, let store { _ = caughtUp.withLock { $0.insert(AgentSession(node: node, store: store)) } }
    }

    /// Whether an agent store reported, since this coordinator started, that the county held every
    /// change it had: so what it sent before the start — lost if the coordinator was restored from
    /// a backup — is here again (DESIGN §3.5).
    public func hasCaughtUp(_ store: AgentSession) -> Bool { caughtUp.withLock { $0.contains(store) } }

    /// A connection from the node closed; returns whether that left the node offline.
    @discardableResult
    public func disconnected(_ node: String) -> Bool {
        let now = clock()
        return entries.withLock { entries in
            guard var entry = entries[node] else { return false }
            let open = entry.connections
            entry.connections = max(0, open - 1)
            entry.lastSeen = now
            entries[node] = entry
            return open == 1
        }
    }

    public var all: [Entry] { entries.withLock { $0.values.sorted { $0.node < $1.node } } }
}
