import Foundation
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineTestSupport
import SunshineWire
import Testing

/// Every odd certificate the cluster CA could have signed, presented to a live coordinator
/// (DESIGN §3.7): a refused one gets exactly one `forbidden` frame (code 1002, `id: null`) saying
/// why and is closed; the coordinator goes on serving a township that stayed connected and new ones.
@Suite(.timeLimit(.minutes(2))) struct CertificateSpecimenHandshakeTests {
    /// Every specimen but the cluster root, which BoringSSL will not even load as a client
    /// certificate (its key usage lacks digitalSignature); Python presents that one below.
    @Test(arguments: CertificateSpecimen.allCases.filter { $0 != .clusterRootAsClient })
    func theCoordinatorRefusesOrAcceptsEachSpecimenAndKeepsServing(_ specimen: CertificateSpecimen) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try pki.directory.write(try specimen.issue(by: pki.authority), for: specimen.fileName, force: true)
        try await withTestServer(pki: pki) { endpoint, responder in
            try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                let claimed = specimen.claimedIdentity
                let frames = try await withRawClient(to: endpoint, pki: pki, node: specimen.fileName) { client in
                    try? await client.sendHello(as: claimed.node, role: claimed.role)
                    var frames: [[String: Any]] = []
                    while let frame = await client.nextIgnoringPings(), frames.count < 3 {
                        frames.append(frame)
                        if frame["result"] != nil { break }
                    }
                    return frames
                }
                switch specimen.handshake {
                case .forbidden(let refusal):
                    #expect(frames.count == 1, "one refusal, then the connection closes: \(frames)")
                    let frame = try #require(frames.first)
                    expectOneForbiddenSentence(frame, containing: refusal)
                case .failedByTLS:
                    #expect(frames.isEmpty, "\(frames)")
                case .accepted:
                    #expect(frames.first?["result"] != nil, "\(frames)")
                }
                _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
            }
            try await withClient("township-02", pki: pki, to: endpoint) { connection, _ in
                _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
            }
            let accepted = specimen.handshake == .accepted ? [specimen.claimedIdentity.node] : []
            #expect(responder.hellos == ["township-01"] + accepted + ["township-02"])
        }
    }

    @Test func theClusterRootPresentedAsAClientFailsTheHandshake() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let specimen = CertificateSpecimen.clusterRootAsClient
        #expect(specimen.handshake == .failedByTLS)
        try pki.directory.write(try specimen.issue(by: pki.authority), for: specimen.fileName, force: true)
        try await withTestServer(pki: pki) { endpoint, responder in
            // OpenSSL (through Python) presents what BoringSSL will not load: the CA's own key and
            // certificate. BoringSSL on the coordinator refuses it: the CA's key usage is not
            // digitalSignature, so it may not sign a TLS handshake.
            let result = try runProcess(
                "python3",
                [
                    RepositoryFiles.path("scripts/interop-hello.py"),
                    "--host", endpoint.host, "--port", String(endpoint.port),
                    "--ca", pki.directory.caCertificatePath,
                    "--cert", pki.directory.certificatePath(for: specimen.fileName),
                    "--key", pki.directory.keyPath(for: specimen.fileName),
                    "--node", "township-05",
                ])
            #expect(result.status != 0, "\(result.output)")
            #expect(!result.output.contains("\"result\""), "\(result.output)")
            #expect(result.output.contains("alert"), "\(result.output)")
            try await withClient("township-02", pki: pki, to: endpoint) { connection, _ in
                _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
            }
            #expect(responder.hellos == ["township-02"])
        }
    }
}

/// A refusal at the handshake: code 1002 `forbidden` with `id: null`, one short line saying why.
func expectOneForbiddenSentence(
    _ frame: [String: Any],
    containing phrase: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(frame.errorCode == 1002, sourceLocation: sourceLocation)
    #expect(frame.errorReason == "forbidden", sourceLocation: sourceLocation)
    #expect(frame.idIsNull, sourceLocation: sourceLocation)
    let message = frame.errorMessage ?? ""
    #expect(message.contains(phrase), "\(message)", sourceLocation: sourceLocation)
    #expect(message.count < 300 && !message.contains("\n"), "\(message)", sourceLocation: sourceLocation)
    #expect(message.hasSuffix("."), "\(message)", sourceLocation: sourceLocation)
}
