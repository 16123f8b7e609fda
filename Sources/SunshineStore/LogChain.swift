import Crypto
import SunshineModel

/// The hash chain over a store's change log (DESIGN §3.5): `head(0)` is 32 zero bytes and
/// `head(n) = SHA-256(head(n−1) ‖ canonical JSON of version n)`. Two stores whose logs agree up
/// to n have the same head there; a log restored from a backup or rolled back shows another.
public enum LogChain {
    /// The head of an empty log, in hex.
    public static let origin = String(repeating: "0", count: 64)

    static let originBytes = [UInt8](repeating: 0, count: 32)

    /// The head after appending a version whose canonical JSON is `canonical`.
    static func next(after head: [UInt8], canonical: String) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: head)
        hash.update(data: Array(canonical.utf8))
        return Array(hash.finalize())
    }

    /// Whether `text` is a head in hex: 64 lower-case hex digits.
    public static func isHead(_ text: String) -> Bool {
        RecordRules.isLowerHex(text, digits: 64)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
