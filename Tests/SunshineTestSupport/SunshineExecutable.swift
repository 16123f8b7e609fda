import Foundation

/// The `sunshine` command built beside the tests, for tests that run the CLI as a user would.
public enum SunshineExecutable {
    /// `sunshine` in the directory the test binary runs from (`swift build --build-tests` puts both
    /// there), else `.build/debug/sunshine` in the repository.
    public static let path: String = {
        let besideTests = Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("sunshine").path
        if let besideTests, FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return RepositoryFiles.path(".build/debug/sunshine")
    }()
}
