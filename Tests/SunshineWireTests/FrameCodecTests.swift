import NIOCore
import NIOEmbedded
import NIOTestUtils
import SunshineWire
import Testing

@Suite struct FrameDecoderTests {
    private func frame(_ payload: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(payload.utf8.count), endianness: .big)
        buffer.writeString(payload)
        return buffer
    }

    @Test func decodesFramesDripFedCoalescedAndWhole() throws {
        // The verifier feeds the inputs one byte at a time, all coalesced into one buffer, and
        // one frame per buffer, expecting the same payloads every way.
        let payloads = [#"{"a":1}"#, "x", String(repeating: "y", count: 3_000), #"{"jsonrpc":"2.0","method":"ping","params":{},"id":7}"#]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: payloads.map { (frame($0), [ByteBuffer(string: $0)]) },
            decoderFactory: { FrameDecoder() }
        )
    }

    @Test(arguments: [UInt32(0), UInt32(1_048_577), UInt32(Int32.max), UInt32.max])
    func refusesAMaliciousLengthAsSoonAsTheHeaderArrives(_ length: UInt32) throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var header = ByteBuffer()
        header.writeInteger(length, endianness: .big)
        // Only the 4 header bytes: the decoder must not wait for (or reserve) the announced payload.
        #expect(throws: FrameError.invalidLength(length, maxFrame: 1_048_576)) {
            try channel.writeInbound(header)
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func acceptsExactlyMaxFrame() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrame: 1_024)))
        try channel.writeInbound(frame(String(repeating: "z", count: 1_024)))
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 1_024)
        #expect(throws: FrameError.invalidLength(1_025, maxFrame: 1_024)) {
            try channel.writeInbound(frame(String(repeating: "z", count: 1_025)))
        }
    }

    @Test func aFrameCutOffByEndOfFileIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var partial = frame(#"{"jsonrpc":"2.0"}"#)
        partial.moveWriterIndex(to: partial.writerIndex - 3)
        try channel.writeInbound(partial)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(throws: FrameError.truncated(bufferedBytes: partial.readableBytes)) {
            try channel.finish()
        }
    }

    @Test func aCleanEndLeavesNothingBehind() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try channel.writeInbound(frame("{}"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "{}"))
        #expect(try channel.finish().isClean)
    }
}

@Suite struct FrameEncoderTests {
    @Test func prefixesEachPayloadWithItsBigEndianLength() throws {
        let channel = EmbeddedChannel(handler: FrameEncoder())
        try channel.writeOutbound(ByteBuffer(string: #"{"a":1}"#))
        var written = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&part) }
        #expect(written.readInteger(endianness: .big, as: UInt32.self) == 7)
        #expect(written.readString(length: 7) == #"{"a":1}"#)
        #expect(try channel.finish().isClean)
    }

    @Test func refusesPayloadsOverThePeersMaxFrame() throws {
        let channel = EmbeddedChannel(handler: FrameEncoder())
        try channel.triggerUserOutboundEvent(FrameEncoder.PeerMaxFrame(1_024)).wait()
        #expect(throws: FrameError.outboundTooLarge(1_025, peerMaxFrame: 1_024)) {
            try channel.writeOutbound(ByteBuffer(repeating: 0x20, count: 1_025))
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        try channel.writeOutbound(ByteBuffer(repeating: 0x20, count: 1_024))
        #expect(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes == 4)
    }
}
