/// Why a certificate operation failed, in words a county administrator can act on.
public enum PKIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The certificate grants no node identity; the reason is a clause such as "its subject has 2 OUs, …".
    case missingIdentity(String)
    case fileExists(String)
    /// A node id whose files would be the CA's own (`ca` → `ca.pem`, `ca.key`).
    case nodeNamedLikeTheCA
    case unreadable(path: String, reason: String)
    case invalidRevocationEntry(line: Int, text: String)

    public var description: String {
        switch self {
        case .missingIdentity(let why):
            return "The certificate does not identify a Sunshine node: \(why); "
                + "issue the node a new one with `sunshine certs issue`."
        case .fileExists(let path):
            return "\(path) already exists; pass --force to replace it (the old key stops working)."
        case .nodeNamedLikeTheCA:
            return "A node named \"ca\" would be written over the CA's own ca.pem and ca.key; choose another node id."
        case .unreadable(let path, let reason):
            return "Cannot read \(path): \(reason)."
        case .invalidRevocationEntry(let line, let text):
            return "Revocation list line \(line) (\"\(text)\") is neither a certificate serial nor a SHA-256 fingerprint; "
                + "write serial:HEX or sha256:HEX (64 hex digits), one per line."
        }
    }
}
