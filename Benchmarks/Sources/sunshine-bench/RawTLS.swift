import NIOCore
import NIOPosix
import NIOSSL

// The "what the machine allows" baseline: SwiftNIO with NIOSSL (TLS 1.3, the same certificates and
// contexts as Sunshine), a 4-byte length prefix, and nothing else. The server answers each frame
// from its channel handler on the event loop, with bytes prepared in advance; the client is an
// NIOAsyncChannel, as Sunshine's client is.

/// Splits a byte stream into length-prefixed frames.
struct RawFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            buffer.readableBytes >= 4 + Int(length)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(NIOAny(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

/// Prefixes each outbound payload with its length.
struct RawFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}

/// Answers every frame with the same prepared frame.
final class RawAnswerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let answer: ByteBuffer

    init(answer payload: ByteBuffer) {
        var framed = ByteBuffer()
        framed.writeInteger(UInt32(payload.readableBytes))
        framed.writeImmutableBuffer(payload)
        answer = framed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(wrapOutboundOut(answer), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// A raw TLS server that answers every frame with `answer`.
struct RawTLSServer {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    static func start(tls: NIOSSLContext, answer: ByteBuffer) async throws -> RawTLSServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RawFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RawAnswerHandler(answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return RawTLSServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// A raw TLS client connection, used from async code.
enum RawTLSClient {
    static func withConnection<T: Sendable>(
        port: Int, tls: NIOSSLContext,
        _ body: (NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, NIOAsyncChannelOutboundWriter<ByteBuffer>)
            async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RawFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(RawFrameEncoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(inbound.makeAsyncIterator(), outbound)
        }
    }

    /// Sends `frame` and waits for the answer, `count` times; the round-trip time of each, in µs.
    static func pingPong(port: Int, tls: NIOSSLContext, frame: ByteBuffer, count: Int) async throws -> [Double] {
        try await withConnection(port: port, tls: tls) { inbound, outbound in
            var inbound = inbound
            var samples: [Double] = []
            samples.reserveCapacity(count)
            for _ in 0..<count {
                let start = monotonicNanos()
                try await outbound.write(frame)
                guard try await inbound.next() != nil else { throw BenchError("the raw server closed") }
                samples.append(Double(monotonicNanos() - start) / 1_000)
            }
            return samples
        }
    }

    /// Sends `count` copies of `frame` keeping `window` unanswered; the seconds it took.
    static func pipeline(port: Int, tls: NIOSSLContext, frame: ByteBuffer, count: Int, window: Int) async throws
        -> Double
    {
        try await withConnection(port: port, tls: tls) { inbound, outbound in
            var inbound = inbound
            let start = monotonicNanos()
            var sent = 0
            while sent < min(window, count) {
                try await outbound.write(frame)
                sent += 1
            }
            var answered = 0
            while answered < count {
                guard try await inbound.next() != nil else { throw BenchError("the raw server closed") }
                answered += 1
                if sent < count {
                    try await outbound.write(frame)
                    sent += 1
                }
            }
            return Double(monotonicNanos() - start) / 1e9
        }
    }
}

/// A benchmark that could not run, in one sentence.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
