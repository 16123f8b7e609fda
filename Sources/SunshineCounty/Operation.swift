import SunshineModel

/// What a client may ask the county to do, and the one rule of which role may ask it (DESIGN §3.7):
/// agents push and pull; operators watch and write as the county, never through `push`.
public enum CountyOperation: String, Sendable, CaseIterable {
    case push, pull, status, tally, conflicts, put, resolve, closeRound, rejected

    /// The role allowed to ask for this.
    public var role: NodeRole {
        switch self {
        case .push, .pull: return .agent
        case .status, .tally, .conflicts, .put, .resolve, .closeRound, .rejected: return .operator
        }
    }

    /// Refuses an identity whose role may not ask for this.
    public func authorize(_ identity: NodeIdentity) throws(CountyError) {
        guard identity.role != role else { return }
        switch role {
        case .agent:
            throw .forbidden("\(rawValue) is for township agents; operators write through put, resolve and closeRound.")
        case .operator, .coordinator:
            throw .forbidden("\(rawValue) is an operator method; \(identity.node) is a\(identity.role == .agent ? "n" : "") \(identity.role.rawValue).")
        }
    }
}
