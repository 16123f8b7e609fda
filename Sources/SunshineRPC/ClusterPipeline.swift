import NIOCore
import NIOSSL
import SunshineModel
import SunshinePKI
import SunshineWire

/// The channel pipeline both ends of a connection use, in the order bytes flow:
///
/// ```
/// socket ⇄ TLS 1.3 (NIOSSL) ⇄ FrameDecoder / FrameEncoder ⇄ PeerIdentityHandler ⇄ NIOAsyncChannel
/// ```
/// The identity future resolves once the handshake completed and the peer's certificate passed
/// the revocation, CN/OU and role checks; `revocations` is asked for the list at that moment.
enum ClusterPipeline {
    static func configure(
        _ channel: any Channel,
        tls: NIOSSLHandler,
        maxFrame: Int,
        allowedRoles: Set<NodeRole>,
        revocations: @escaping @Sendable () -> RevocationList
    ) throws -> (NIOAsyncChannel<ByteBuffer, ByteBuffer>, EventLoopFuture<PeerCertificate>) {
        let identity = channel.eventLoop.makePromise(of: PeerCertificate.self)
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(tls)
        try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(maxFrame: maxFrame)))
        try pipeline.addHandler(FrameEncoder())
        try pipeline.addHandler(PeerIdentityHandler(allowedRoles: allowedRoles, revocations: revocations, promise: identity))
        let asyncChannel = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        return (asyncChannel, identity.futureResult)
    }
}
