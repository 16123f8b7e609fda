/// Reconnect delays: exponential backoff with full jitter (DESIGN §3.5), 0.5 s doubling up to 30 s.
///
/// "Full jitter" draws each delay uniformly from zero to the current ceiling, so seventeen offices
/// that lost the coordinator at the same moment do not all knock again at the same moment.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    public private(set) var attempt = 0

    public init(base: Duration = .milliseconds(500), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling of the next delay: `min(cap, base · 2^attempt)`.
    public var ceiling: Duration {
        let capNanoseconds = Self.nanoseconds(cap)
        let (scaled, overflow) = Self.nanoseconds(base).multipliedReportingOverflow(by: Int64(1) << Int64(min(attempt, 40)))
        return .nanoseconds(overflow ? capNanoseconds : min(capNanoseconds, scaled))
    }

    /// The next delay, and one more attempt counted.
    public mutating func next<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Duration {
        let upper = Self.nanoseconds(ceiling)
        attempt += 1
        return .nanoseconds(Int64.random(in: 0...max(upper, 0), using: &generator))
    }

    public mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// A connection succeeded: the next failure starts from the base again.
    public mutating func reset() {
        attempt = 0
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
