import Foundation
import NIOConcurrencyHelpers
import SunshinePKI
import SunshineWire

/// What the coordinator knows about each node's connection: online or not, when it was last heard
/// from, and what it last reported in a ping. Operators read it through `status`.
public final class NodeSessions: Sendable {
    public struct Presence: Sendable, Equatable {
        public var node: String
        public var role: NodeRole
        /// Open connections from this node (normally 0 or 1).
        public var connections: Int
        public var lastSeen: Date
        /// The agent's newest local change-log sequence number, as last reported in a ping.
        public var reportedSeq: Int64?
        /// How many of its changes the agent had not yet had acknowledged, as last reported.
        public var reportedOutbox: Int64?

        public var online: Bool { connections > 0 }
    }

    private let nodes = NIOLockedValueBox([String: Presence]())
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
    }

    public func connected(_ identity: NodeIdentity) {
        let now = clock()
        nodes.withLockedValue { nodes in
            var presence = nodes[identity.node] ?? Presence(node: identity.node, role: identity.role, connections: 0, lastSeen: now)
            presence.connections += 1
            presence.lastSeen = now
            nodes[identity.node] = presence
        }
    }

    public func heard(from node: String, report: PingParams? = nil) {
        let now = clock()
        nodes.withLockedValue { nodes in
            nodes[node]?.lastSeen = now
            if let seq = report?.seq { nodes[node]?.reportedSeq = seq }
            if let outbox = report?.outbox { nodes[node]?.reportedOutbox = outbox }
        }
    }

    public func disconnected(_ node: String) {
        let now = clock()
        nodes.withLockedValue { nodes in
            guard var presence = nodes[node] else { return }
            presence.connections = max(0, presence.connections - 1)
            presence.lastSeen = now
            nodes[node] = presence
        }
    }

    public func presence(of node: String) -> Presence? { nodes.withLockedValue { $0[node] } }

    public var all: [Presence] { nodes.withLockedValue { $0.values.sorted { $0.node < $1.node } } }
}
