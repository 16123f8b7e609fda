import SunshineModel

/// Method names of protocol version 1 (DESIGN §3.3).
public enum Method {
    public static let hello = "hello"
    public static let ping = "ping"
    public static let bye = "bye"
}

/// The protocol versions this build speaks.
public enum ProtocolVersion {
    public static let current = 1
}

/// `hello` params: the first frame a client sends.
public struct HelloParams: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    /// The node id; must equal the CN of the client's certificate.
    public var node: String
    /// `agent` or `operator`; must equal the OU of the client's certificate.
    public var role: NodeRole
    /// Free text naming the client software and version, for the coordinator's logs.
    public var software: String
    /// The largest frame the client accepts.
    public var maxFrame: Int
    /// An agent's store id (DESIGN §3.5): the county keeps checkpoints per store.
    public var store: String?
    /// Where an agent has pulled the county's log up to, and the log's head there.
    public var pulled: PulledPosition?

    public init(node: String, role: NodeRole, software: String, maxFrame: Int = Frame.defaultMaxFrame, store: String? = nil, pulled: PulledPosition? = nil) {
        self.protocolVersion = ProtocolVersion.current
        self.node = node
        self.role = role
        self.software = software
        self.maxFrame = maxFrame
        self.store = store
        self.pulled = pulled
    }


    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol"
        case node, role, software, maxFrame, store, pulled
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        protocolVersion = try container.decode(Int.self, forKey: .protocolVersion)
        node = try container.decode(String.self, forKey: .node)
        let roleName = try container.decode(String.self, forKey: .role)
        guard let role = NodeRole(rawValue: roleName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .role, in: container,
                debugDescription: "role \"\(roleName)\" is not one of \(NodeRole.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.role = role
        software = try container.decode(String.self, forKey: .software)
        maxFrame = try container.decode(Int.self, forKey: .maxFrame)
        store = try container.decodeIfPresent(String.self, forKey: .store)
        if let store, !RecordRules.isLowerHex(store, digits: 32) {
            throw DecodingError.dataCorruptedError(
                forKey: .store, in: container, debugDescription: "store must be the store's id: 32 lowercase hex digits (128 bits)")
        }
        pulled = try container.decodeIfPresent(PulledPosition.self, forKey: .pulled)
    }
}

/// `hello.pulled`: a position in the coordinator's change log and the log's hash-chain head there.
public struct PulledPosition: Codable, Sendable, Equatable {
    public var upto: Int64
    public var head: String

    public init(upto: Int64, head: String) {
        self.upto = upto
        self.head = head
    }
}

/// What the coordinator's application adds to a `hello` result for the node that said it.
public struct HelloAcceptance: Sendable, Equatable {
    public var checkpoint: Int64
    public var store: String?
    public var pullFrom: Int64?
    public var checkpointHead: String?

    public init(checkpoint: Int64 = 0, store: String? = nil, pullFrom: Int64? = nil, checkpointHead: String? = nil) {
        self.checkpoint = checkpoint
        self.store = store
        self.pullFrom = pullFrom
        self.checkpointHead = checkpointHead
    }
}

/// `hello` result.
public struct HelloResult: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    /// Always `coordinator`.
    public var node: String
    /// An id for this connection, for correlating logs on both sides.
    public var session: String
    /// The largest frame the coordinator accepts.
    public var maxFrame: Int
    /// How often each side pings when idle; a peer silent for three of these is closed.
    public var heartbeatMs: Int
    /// The highest change-log sequence number of this agent store that the coordinator holds
    /// durably with every change before it (0 for operators and for stores it has not seen). The
    /// agent resumes pushing after it.
    public var checkpoint: Int64
    /// The agent store the checkpoint is of (the `store` of the hello).
    public var store: String?
    /// When present, the agent pulls again from this position: the coordinator's log is not the
    /// one the agent pulled (restored from a backup, rolled back).
    public var pullFrom: Int64?
    /// The agent's own log head at `checkpoint`, as it reported it when pushing (an extension of
    /// DESIGN §3.3): an agent whose log differs there was restored from an older copy.
    public var checkpointHead: String?

    public init(
        node: String = "coordinator", session: String, maxFrame: Int, heartbeatMs: Int, checkpoint: Int64, store: String? = nil,
        pullFrom: Int64? = nil, checkpointHead: String? = nil
    ) {
        self.protocolVersion = ProtocolVersion.current
        self.node = node
        self.session = session
        self.maxFrame = maxFrame
        self.heartbeatMs = heartbeatMs
        self.checkpoint = checkpoint
        self.store = store
        self.pullFrom = pullFrom
        self.checkpointHead = checkpointHead
    }

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol"
        case node, session, maxFrame, heartbeatMs, checkpoint, store, pullFrom, checkpointHead
    }
}

/// `ping` params. An agent reports its newest local change-log sequence number and how many of
/// its changes the coordinator has not yet acknowledged, so operators see who is behind.
public struct PingParams: Codable, Sendable, Equatable {
    public var seq: Int64?
    public var outbox: Int64?

    public init(seq: Int64? = nil, outbox: Int64? = nil) {
        self.seq = seq
        self.outbox = outbox
    }

    enum CodingKeys: String, CodingKey {
        case seq, outbox
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seq = try container.decodeIfPresent(Int64.self, forKey: .seq)
        outbox = try container.decodeIfPresent(Int64.self, forKey: .outbox)
        // What operators read as a township's progress is a count: never below zero.
        for (key, value) in [(CodingKeys.seq, seq), (.outbox, outbox)] where (value ?? 0) < 0 {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(key.stringValue) is a count: 0 or more")
        }
    }
}

/// An empty JSON object, the result of `ping`.
public struct EmptyResult: Codable, Sendable, Equatable {
    public init() {}
}

/// `bye` params: why the sender is closing.
public struct ByeParams: Codable, Sendable, Equatable {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }
}
