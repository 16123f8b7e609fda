/// Why a certificate operation failed, in words a county administrator can act on.
public enum PKIError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingIdentity(String)
    case fileExists(String)
    case unreadable(path: String, reason: String)
    case invalidRevocationEntry(line: Int, text: String)

    public var description: String {
        switch self {
        case .missingIdentity(let why):
            return "The certificate does not identify a Sunshine node: \(why)."
        case .fileExists(let path):
            return "\(path) already exists; pass --force to replace it (the old key stops working)."
        case .unreadable(let path, let reason):
            return "Cannot read \(path): \(reason)."
        case .invalidRevocationEntry(let line, let text):
            return "Revocation list line \(line) (\"\(text)\") is neither a certificate serial nor a SHA-256 fingerprint; "
                + "write serial:HEX or sha256:HEX (64 hex digits), one per line."
        }
    }
}
