#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif

/// Whether output should carry colour: only to a terminal, never when the user opted out with
/// `NO_COLOR` (set and non-empty, as no-color.org defines it) or the terminal says it is `dumb`.
public enum ColorPolicy {
    /// The decision from its inputs alone, so that it is tested without a terminal.
    public static func allowsColor(isTerminal: Bool, environment: [String: String]) -> Bool {
        guard isTerminal else { return false }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// The decision for output written to `descriptor` (standard output by default) in this process.
    public static func allowsColor(descriptor: Int32 = STDOUT_FILENO) -> Bool {
        var environment: [String: String] = [:]
        for name in ["NO_COLOR", "TERM"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return allowsColor(isTerminal: isatty(descriptor) == 1, environment: environment)
    }
}
