import Foundation
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineTestSupport
import SunshineWire
import Testing

/// Revoking a certificate while the coordinator runs (DESIGN §3.7): the reloaded list closes the
/// revoked peer's open connection, refuses its next handshake, and leaves everyone else connected.
@Suite(.timeLimit(.minutes(2))) struct RevocationReloadTests {
    @Test func reloadingClosesTheRevokedPeerAndRefusesItsNextHandshake() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let revoked = try pki.summary(of: "township-03")
        try await withRunningServer(pki: pki) { server, endpoint, responder in
            try await withClient("township-01", pki: pki, to: endpoint) { bystander, _ in
                try await withRawClient(to: endpoint, pki: pki, node: "township-03") { client in
                    try await client.sendHello(as: "township-03")
                    #expect(await client.nextIgnoringPings()?["result"] != nil)
                    let list = RevocationList(serials: [revoked.serial])
                    #expect(server.reloadRevocations(list) == 1)
                    #expect(server.revocations == list)
                    let frame = try #require(await client.nextIgnoringPings())
                    expectOneForbiddenSentence(frame, containing: "township-03 (serial \(revoked.serial)) is revoked")
                    #expect(await client.nextIgnoringPings() == nil, "the revoked connection must be closed")
                }
                try await withRawClient(to: endpoint, pki: pki, node: "township-03") { client in
                    try? await client.sendHello(as: "township-03")
                    let frame = try #require(await client.next())
                    expectOneForbiddenSentence(frame, containing: "is revoked")
                    #expect(await client.next() == nil)
                }
                _ = try await bystander.call("ping", params: PingParams(), returning: EmptyResult.self)
                #expect(!bystander.isClosed)
            }
            #expect(responder.hellos == ["township-01", "township-03"])
        }
    }

    @Test func theRealClientOfARevokedCertificateSaysWhyItsConnectionClosed() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let revoked = try pki.summary(of: "operator")
        try await withRunningServer(pki: pki) { server, endpoint, _ in
            try await withClient("operator", role: .operator, pki: pki, to: endpoint) { connection, _ in
                #expect(server.reloadRevocations(RevocationList(fingerprints: [revoked.fingerprint])) == 1)
                try await connection.waitUntilClosed()
                do {
                    _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
                    Issue.record("a revoked operator's connection still answered")
                } catch {
                    #expect(ErrorSentence.describe(error).contains("is revoked"), "\(error)")
                }
            }
        }
    }

    @Test func aConnectionThatHasNotSaidHelloIsClosedToo() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let revoked = try pki.summary(of: "township-02")
        try await withRunningServer(pki: pki) { server, endpoint, responder in
            try await withRawClient(to: endpoint, pki: pki, node: "township-02") { client in
                // Whether the handshake finished before the reload or after, the new list decides it.
                server.reloadRevocations(RevocationList(serials: [revoked.serial]))
                let frame = try #require(await client.next())
                expectOneForbiddenSentence(frame, containing: "is revoked")
                #expect(await client.next() == nil)
            }
            #expect(responder.hellos.isEmpty)
        }
    }

    @Test func aListThatNoLongerRevokesACertificateLetsItBackIn() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let serial = try pki.summary(of: "township-01").serial
        try await withRunningServer(pki: pki, revocations: RevocationList(serials: [serial])) { server, endpoint, _ in
            try await withClient("township-02", pki: pki, to: endpoint) { bystander, _ in
                await #expect(throws: (any Error).self) {
                    try await withClient("township-01", pki: pki, to: endpoint) { _, _ in }
                }
                #expect(server.reloadRevocations(RevocationList()) == 0)
                try await withClient("township-01", pki: pki, to: endpoint) { connection, _ in
                    _ = try await connection.call("ping", params: PingParams(), returning: EmptyResult.self)
                }
                _ = try await bystander.call("ping", params: PingParams(), returning: EmptyResult.self)
            }
        }
    }
}
