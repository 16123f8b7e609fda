/// Why the store could not do what was asked, in one sentence naming the file.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    static func unreadable(_ path: String, _ error: any Error) -> StoreError {
        StoreError("The database \(path) cannot be opened as a Sunshine store (\(error)); restore it from a backup, or move it aside to start empty.")
    }
}
