import Foundation
import NIOConcurrencyHelpers
import SunshinePKI
import SunshineRPC
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

    private struct State {
        var nodes: [String: Presence] = [:]
        var agents: [ObjectIdentifier: (node: String, connection: RPCConnection)] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
    }

    public func connected(_ identity: NodeIdentity, connection: RPCConnection) {
        let now = clock()
        state.withLockedValue { state in
            var presence = state.nodes[identity.node] ?? Presence(node: identity.node, role: identity.role, connections: 0, lastSeen: now)
            presence.connections += 1
            presence.lastSeen = now
            state.nodes[identity.node] = presence
            if identity.role == .agent {
                state.agents[ObjectIdentifier(connection)] = (identity.node, connection)
            }
        }
    }

    public func heard(from node: String, report: PingParams? = nil) {
        let now = clock()
        state.withLockedValue { state in
            state.nodes[node]?.lastSeen = now
            if let seq = report?.seq { state.nodes[node]?.reportedSeq = seq }
            if let outbox = report?.outbox { state.nodes[node]?.reportedOutbox = outbox }
        }
    }

    public func disconnected(_ node: String, connection: RPCConnection) {
        let now = clock()
        state.withLockedValue { state in
            state.agents.removeValue(forKey: ObjectIdentifier(connection))
            guard var presence = state.nodes[node] else { return }
            presence.connections = max(0, presence.connections - 1)
            presence.lastSeen = now
            state.nodes[node] = presence
        }
    }

    public var all: [Presence] { state.withLockedValue { $0.nodes.values.sorted { $0.node < $1.node } } }

    /// The open agent connections, for `changed` notifications.
    var agentConnections: [(node: String, connection: RPCConnection)] { state.withLockedValue { Array($0.agents.values) } }
}
