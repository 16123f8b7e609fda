import Foundation
import Logging
import Testing

@testable import sunshine

/// `--log-format json`: one JSON object per line, whatever the message holds.
@Suite struct JSONLinesLogHandlerTests {
    @Test func anEntryIsOneLineOfJSONWithItsFields() throws {
        let line = JSONLinesLogHandler.line(
            time: Date(timeIntervalSince1970: 1_795_000_000.25), level: .notice, label: "sunshine.coordinator",
            message: "listening on 127.0.0.1:7420\nsecond line \"quoted\"",
            metadata: [
                "node": "township-03", "counts": .dictionary(["ballots": .stringConvertible(12)]), "tags": ["a", "b"],
            ],
            error: "the disk is full")
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2026-11-18T11:06:40.250Z")
        #expect(object["level"] as? String == "notice")
        #expect(object["label"] as? String == "sunshine.coordinator")
        #expect(object["message"] as? String == "listening on 127.0.0.1:7420\nsecond line \"quoted\"")
        #expect(object["error"] as? String == "the disk is full")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["node"] as? String == "township-03")
        #expect((metadata["counts"] as? [String: Any])?["ballots"] as? String == "12")
        #expect(metadata["tags"] as? [String] == ["a", "b"])
    }

    @Test func anEntryWithoutMetadataHasNoMetadataMember() throws {
        let line = JSONLinesLogHandler.line(
            time: Date(), level: .info, label: "sunshine.agent", message: "stopped", metadata: [:])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["time", "level", "label", "message"])
    }
}
