import NIOCore

/// The framing of DESIGN §3.1: every message is one frame.
///
/// ```
/// +----------------------------+------------------------------------------+
/// | length: UInt32, big-endian | payload: `length` bytes of UTF-8 JSON    |
/// +----------------------------+------------------------------------------+
/// ```
/// `1 ≤ length ≤ maxFrame`; each side announces its `maxFrame` in `hello` and never sends more.
public enum Frame {
    /// Bytes in the length prefix.
    public static let headerSize = 4
    /// The default `maxFrame`, 1 MiB, announced unless configured otherwise.
    public static let defaultMaxFrame = 1_048_576
    /// The smallest `maxFrame` a peer may announce: a record may be 16 KiB, and a page or batch
    /// carrying one must fit.
    public static let minimumMaxFrame = 65_536
    /// The largest `maxFrame` a peer may make this side buffer (DESIGN §3.9); a larger announcement
    /// is taken as this.
    public static let maximumMaxFrame = 16 * 1_048_576
}

/// A frame that broke the framing rules. Every case ends the connection after a `frame_too_large`
/// (or, for a truncated frame, no) error response.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header announced 0 bytes or more than the receiver's maxFrame.
    case invalidLength(UInt32, maxFrame: Int)
    /// The connection ended part-way through a frame.
    case truncated(bufferedBytes: Int)
    /// We were about to send a frame larger than the peer accepts.
    case outboundTooLarge(Int, peerMaxFrame: Int)

    public var description: String {
        switch self {
        case .invalidLength(let length, let maxFrame):
            return length == 0
                ? "a frame announced a length of 0 bytes; every frame carries 1 to \(maxFrame) bytes of JSON"
                : "a frame announced \(length) bytes, more than this side's maxFrame of \(maxFrame) bytes"
        case .truncated(let buffered):
            return "the connection closed in the middle of a frame (\(buffered) bytes of it had arrived)"
        case .outboundTooLarge(let size, let peerMaxFrame):
            return "a \(size)-byte message is larger than the peer's maxFrame of \(peerMaxFrame) bytes"
        }
    }
}

/// Splits the inbound byte stream into frame payloads.
///
/// The length is checked the moment the 4 header bytes are readable, before any payload is
/// awaited, so a hostile length never makes the receiver buffer or allocate the announced size.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maxFrame: Int

    public init(maxFrame: Int = Frame.defaultMaxFrame) {
        self.maxFrame = maxFrame
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        guard length >= 1, UInt64(length) <= UInt64(maxFrame) else {
            throw FrameError.invalidLength(length, maxFrame: maxFrame)
        }
        guard buffer.readableBytes >= Frame.headerSize + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        return buffer.readSlice(length: Int(length))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncated(bufferedBytes: buffer.readableBytes) }
        return nil
    }
}

/// Prefixes each outbound payload with its length, refusing payloads over the peer's maxFrame.
///
/// The limit starts at the protocol default and changes when the RPC layer learns the peer's
/// `maxFrame` from `hello` (``FrameEncoder/PeerMaxFrame`` as an outbound user event).
public final class FrameEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Sent down the pipeline to change the largest frame this side may send.
    public struct PeerMaxFrame: Sendable {
        public var bytes: Int
        public init(_ bytes: Int) { self.bytes = bytes }
    }

    private var peerMaxFrame: Int

    public init(peerMaxFrame: Int = Frame.defaultMaxFrame) {
        self.peerMaxFrame = peerMaxFrame
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        guard payload.readableBytes >= 1, payload.readableBytes <= peerMaxFrame else {
            promise?.fail(FrameError.outboundTooLarge(payload.readableBytes, peerMaxFrame: peerMaxFrame))
            return
        }
        var header = context.channel.allocator.buffer(capacity: Frame.headerSize)
        header.writeInteger(UInt32(payload.readableBytes), endianness: .big)
        context.write(wrapOutboundOut(header), promise: nil)
        context.write(wrapOutboundOut(payload), promise: promise)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let limit = event as? PeerMaxFrame {
            peerMaxFrame = limit.bytes
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }
}
