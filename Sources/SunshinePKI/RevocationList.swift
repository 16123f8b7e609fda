import Foundation

/// Certificates the coordinator refuses even though the CA signed them: a lost office laptop,
/// a clerk who left. Entries are certificate serials or SHA-256 fingerprints (as `sunshine certs show`
/// prints them).
///
/// The file format is one entry per line, `#` starts a comment:
/// ```
/// # township-07's laptop, stolen 2026-11-20
/// serial:5c0f3a…
/// sha256:9e1b…            (64 hex digits; ':' separators are allowed)
/// ```
/// A bare hex string of 64 digits is read as a fingerprint, any other bare hex string as a serial.
public struct RevocationList: Sendable, Equatable {
    public private(set) var serials: Set<String>
    public private(set) var fingerprints: Set<String>

    public init(serials: Set<String> = [], fingerprints: Set<String> = []) {
        self.serials = Set(serials.map(Self.normalize))
        self.fingerprints = Set(fingerprints.map(Self.normalize))
    }

    /// Parses the text of a revocation list file.
    public init(parsing text: String) throws {
        self.init()
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if line.isEmpty { continue }
            let lower = line.lowercased()
            let entry: (isFingerprint: Bool, hex: String)
            if lower.hasPrefix("sha256:") {
                entry = (true, Self.normalize(String(lower.dropFirst(7))))
            } else if lower.hasPrefix("serial:") {
                entry = (false, Self.normalize(String(lower.dropFirst(7))))
            } else {
                let hex = Self.normalize(lower)
                entry = (hex.count == 64, hex)
            }
            let isHex = !entry.hex.isEmpty && entry.hex.allSatisfy(\.isHexDigit)
            guard isHex, !entry.isFingerprint || entry.hex.count == 64 else {
                throw PKIError.invalidRevocationEntry(line: offset + 1, text: line)
            }
            if entry.isFingerprint { fingerprints.insert(entry.hex) } else { serials.insert(entry.hex) }
        }
    }

    /// Reads a revocation list file.
    public init(contentsOf path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PKIError.unreadable(path: path, reason: "the revocation list could not be opened as UTF-8 text")
        }
        try self.init(parsing: text)
    }

    public var isEmpty: Bool { serials.isEmpty && fingerprints.isEmpty }

    /// Whether the certificate described by `summary` is revoked.
    public func revokes(_ summary: CertificateSummary) -> Bool {
        serials.contains(Self.normalize(summary.serial)) || fingerprints.contains(summary.fingerprint)
    }

    /// Lower-case, without ':' separators and without leading zero bytes in serials (as certificates
    /// encode positive serials with an optional leading 00).
    private static func normalize(_ hex: String) -> String {
        var digits = hex.lowercased().filter { $0 != ":" && $0 != " " }
        while digits.hasPrefix("00") && digits.count > 2 && digits.count != 64 { digits.removeFirst(2) }
        return digits
    }
}
