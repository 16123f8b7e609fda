import Foundation
import Logging
import SunshineModel
import Synchronization

/// Writes each log entry as one JSON object on one line of standard error (`--log-format json`),
/// for journald, Loki or any collector that reads JSON lines.
///
/// swift-log ships only a text handler (`StreamLogHandler`); the field's JSON handlers pull in
/// whole logging back ends, so this small one writes Sunshine's own canonical JSON (sorted keys,
/// one line) instead:
///
/// ```
/// {"label":"sunshine.agent","level":"info","message":"connected …","metadata":{"node":"township-03"},"time":"…"}
/// ```
struct JSONLinesLogHandler: LogHandler {
    var label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// Serialises writes, so that two threads' lines never interleave on standard error.
    private static let output = Mutex(())

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Self.line(
            time: Date(), level: event.level, label: label, message: "\(event.message)", metadata: merged,
            error: event.error.map { "\($0)" })
        Self.output.withLock { _ in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// One entry as its JSON line (without the newline).
    static func line(
        time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, error: String? = nil
    ) -> String {
        var members: [String: JSONValue] = [
            "time": .string(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(time)),
            "level": .string(level.rawValue),
            "label": .string(label),
            "message": .string(message),
        ]
        if !metadata.isEmpty { members["metadata"] = .object(metadata.mapValues(json)) }
        if let error { members["error"] = .string(error) }
        return CanonicalJSON.string(.object(members))
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }
}
