/// What a node is allowed to be in a Sunshine cluster; a certificate carries it as its OU.
public enum NodeRole: String, Sendable, Hashable, CaseIterable, Codable {
    /// The county's server.
    case coordinator
    /// A township office's agent.
    case agent
    /// A county operator's client (dashboard, status, tally, …).
    case `operator`

    /// The role with its article, for sentences: "a coordinator", "an agent", "an operator".
    public var withArticle: String { self == .coordinator ? "a coordinator" : "an \(rawValue)" }
}

/// Who a node is: its id (a certificate's CN) and its role (the OU), checked by the rules every
/// node applies alike (DESIGN §3.7), so that an identity that exists is one the cluster accepts.
public struct NodeIdentity: Sendable, Hashable, CustomStringConvertible {
    public let node: String
    public let role: NodeRole

    /// - Throws: ``IdentityError`` when `node` is not a node id, is a name reserved for the county,
    ///   is an operator's name (`operator`, `operator-NAME`) for another role, or names an operator otherwise.
    public init(node: String, role: NodeRole) throws(IdentityError) {
        guard NodeName.isValid(node) else { throw .invalidNodeName(node) }
        // `county` is the scope of county-wide records and `coordinator` the node the county writes
        // as: an agent or operator with either name could pass for the county.
        if node == RecordRules.countyScope || (node == Authorization.countyNode && role != .coordinator) {
            throw .reservedName(node, role: role)
        }
        // The county tells nodes apart by name (presence, the dashboard): an operator named
        // township-04 would show township-04 online, and an agent named operator-alice would pass
        // for an operator in every list (DESIGN §3.7: operators are `operator` or `operator-NAME`).
        if role == .operator, !NodeName.isOperatorName(node) { throw .notAnOperatorName(node) }
        if role != .operator, NodeName.isOperatorName(node) { throw .operatorName(node, role: role) }
        self.node = node
        self.role = role
    }

    public var description: String { "\(node) (\(role.rawValue))" }
}

/// Why a name and role do not make an identity, in a sentence an administrator can act on.
public enum IdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidNodeName(String)
    case reservedName(String, role: NodeRole)
    /// An operator's certificate must be named `operator` or `operator-NAME`.
    case notAnOperatorName(String)
    /// `operator` and `operator-NAME` name operators only.
    case operatorName(String, role: NodeRole)

    public var description: String {
        switch self {
        case .invalidNodeName(let name):
            return "\"\(name)\" is not a valid node id: use 1–64 lower-case letters, digits and '-', starting with a letter."
        case .reservedName(let name, let role):
            return "\"\(name)\" is reserved for the county and cannot name \(role.withArticle); "
                + "choose another node id."
        case .notAnOperatorName(let name):
            return "\"\(name)\" cannot name an operator: operators are named operator or operator-NAME "
                + "(for example operator-alice), so that none passes for a township."
        case .operatorName(let name, let role):
            return "\"\(name)\" is an operator's name and cannot name \(role.withArticle); "
                + "choose another node id."
        }
    }
}
