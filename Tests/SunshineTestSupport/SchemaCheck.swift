import Foundation

/// Validates frames against proto-schemas/ with the independent validator
/// (scripts/validate-frames.py, Python's jsonschema).
public enum SchemaCheck {
    /// One line of the validator's input: the method and the frame payload exactly as encoded.
    public static func line(_ method: String, _ payload: String, expectInvalid: Bool = false) -> String {
        #"{"method":"\#(method)","frame":\#(payload)\#(expectInvalid ? #","expect":"invalid""# : "")}"#
    }

    /// Runs the validator over the lines; it prints "N passed, M failed" and exits 1 on failure.
    public static func validate(_ lines: [String]) throws -> (status: Int32, output: String) {
        let file = NSTemporaryDirectory() + "sunshine-frames-\(UUID().uuidString).jsonl"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try runProcess("python3", [RepositoryFiles.path("scripts/validate-frames.py"), "--schemas", RepositoryFiles.path("proto-schemas"), file])
    }
}
