import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SunshineRPC
import SunshineWire

/// A TLS client that writes raw bytes — any length prefix, any payload — and reads frames back,
/// to play the broken or hostile peer.
public struct RawClient {
    public let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator

    public func send(raw bytes: ByteBuffer) async throws {
        try await outbound.write(bytes)
    }

    public func send(frame json: String) async throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(json.utf8.count), endianness: .big)
        buffer.writeString(json)
        try await send(raw: buffer)
    }

    public func sendHello(as node: String, role: String = "agent", id: Int = 1) async throws {
        try await send(frame: #"{"jsonrpc":"2.0","id":\#(id),"method":"hello","params":{"protocol":1,"node":"\#(node)","role":"\#(role)","software":"raw","maxFrame":1048576}}"#)
    }

    /// The next frame as a JSON object, or nil once the server has closed the connection.
    public mutating func next() async -> [String: Any]? {
        guard let frame = try? await frames.next() else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(frame.readableBytesView))) as? [String: Any]
    }

    /// Skips the server's heartbeat pings and returns the next other frame.
    public mutating func nextIgnoringPings() async -> [String: Any]? {
        while let frame = await next() {
            if frame["method"] as? String == "ping" { continue }
            return frame
        }
        return nil
    }
}

/// Connects a ``RawClient`` with `node`'s certificate from `pki` (no certificate when `node` is
/// nil) and runs `body` with it. A watchdog closes the connection after `watchdog`, so a test
/// never waits forever for a frame.
public func withRawClient<T>(
    to endpoint: Endpoint,
    pki: TestPKI,
    node: String?,
    watchdog: TimeAmount = .seconds(20),
    body: (inout RawClient) async throws -> T
) async throws -> T {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.directory.caCertificatePath))
    tls.minimumTLSVersion = .tlsv13
    if let node {
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(pki.directory.certificatePath(for: node)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki.directory.keyPath(for: node), format: .pem))
    }
    let context = try NIOSSLContext(configuration: tls)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: endpoint.host, port: endpoint.port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrame: 16 << 20)))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let raw = channel.channel
    raw.eventLoop.scheduleTask(in: watchdog) { raw.close(promise: nil) }
    return try await channel.executeThenClose { inbound, outbound in
        var client = RawClient(channel: raw, outbound: outbound, frames: inbound.makeAsyncIterator())
        return try await body(&client)
    }
}

