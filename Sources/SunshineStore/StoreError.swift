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
        /// The path cannot hold a store: a file where its directory should be, a directory where
        /// the file should be, or a place this user cannot write.
        case unusable
        case other
    }

    public var reason: Reason
    public var description: String

    public init(_ description: String, reason: Reason = .other) {
        self.description = description
        self.reason = reason
    }

    /// A file SQLite reads as damaged, or as no database at all. Restoring a backup is the way out;
    /// moving the file aside is one too, but loses whatever only this file holds — for a township,
    /// ballots and findings not yet sent — so the sentence says so.
    static func damaged(_ path: String, _ why: String, node: String?) -> StoreError {
        let lost =
            node == nil || node == "coordinator"
            ? "whatever it holds that no backup has would be lost"
            : "any ballots and findings in it not yet sent to the coordinator would be lost"
        return StoreError(
            "The database \(path) is damaged or is not a Sunshine store (\(why)). Restore it from a backup; "
                + "moving it aside starts an empty store, and \(lost).",
            reason: .damaged
        )
    }
}
