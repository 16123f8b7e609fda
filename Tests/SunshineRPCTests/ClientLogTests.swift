import Foundation
import Logging
import NIOConcurrencyHelpers
import SunshineModel
import SunshineRPC
import SunshineTestSupport
import SunshineWire
import Testing

/// Keeps every message logged through it, for tests that read what a connection logged.
struct CapturingLogHandler: LogHandler {
    let messages: NIOLockedValueBox<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.withLockedValue { $0.append("\(event.message)") }
    }
}

/// A client whose call fails closes its connection; that is the caller's doing, not news for a log
/// (an operator command that fails prints its one sentence and nothing else).
@Suite(.timeLimit(.minutes(2))) struct ClientLogTests {
    @Test func aClientClosingAfterAFailedCallLogsNoCancellation() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let messages = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "sunshine.rpc") { _ in CapturingLogHandler(messages: messages) }
        try await withTestServer(pki: pki) { endpoint, _ in
            let tls = try ClusterTLS.clientContext(NodeCredentials(pki: pki.directory, node: "operator"))
            for _ in 1...60 {
                await #expect(throws: (any Error).self) {
                    try await RPCClient.withConnection(
                        to: endpoint, tls: tls, hello: HelloParams(node: "operator", role: .operator, software: "tests"),
                        logger: logger
                    ) { connection, _ in
                        _ = try await connection.call("no-such-method", params: EmptyResult(), returning: EmptyResult.self)
                    }
                }
            }
        }
        let cancellations = messages.withLockedValue { $0 }.filter { $0.contains("CancellationError") }
        #expect(cancellations.isEmpty, "\(cancellations.count) lines such as \(cancellations.first ?? "")")
    }
}
