/// Why the store could not do what was asked, in one sentence naming the file.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of trouble it is, for callers that decide whether to retry.
    public enum Reason: Sendable, Equatable {
        /// Another process held the file locked past the busy timeout: retrying later may succeed.
        case busy
        /// The disk is full: nothing was written; retrying after space is freed may succeed.
        case full
        /// The file is not a Sunshine store, or is damaged.
        case damaged
        case other
    }

    public var reason: Reason
    public var description: String

    public init(_ description: String, reason: Reason = .other) {
        self.description = description
        self.reason = reason
    }

    static func unreadable(_ path: String, _ error: any Error) -> StoreError {
        StoreError(
            "The database \(path) cannot be opened as a Sunshine store (\(error)); restore it from a backup, or move it aside to start empty.",
            reason: .damaged
        )
    }
}
