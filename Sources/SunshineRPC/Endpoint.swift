/// A `HOST:PORT` address as given on the command line (`127.0.0.1:7420`, `county.example:7420`,
/// `[::1]:7420`).
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, an IPv6 host in brackets (`[::1]:7420`); returns nil when either part is
    /// missing, the port is not 0–65535 in digits, or the host is malformed — a bracket left open,
    /// brackets around a name, or an IPv6 address without them (`::1:7420` says no port for sure).
    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            // An IPv6 address, optionally with a zone (`fe80::1%eth0`).
            let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            guard rest.hasPrefix(":"), parts[0].contains(":"),
                parts[0].allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }),
                parts.count == 1 || (!parts[1].isEmpty && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            let forbidden: Set<Character> = [":", "[", "]", "/", "@", "?", "#"]
            guard !host.contains(where: { forbidden.contains($0) || $0.isWhitespace }) else { return nil }
        }
        guard !host.isEmpty, (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText), (0...65_535).contains(port)
        else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
