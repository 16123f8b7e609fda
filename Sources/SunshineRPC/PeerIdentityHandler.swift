import NIOCore
import NIOSSL
import NIOTLS
import SunshineModel
import SunshinePKI
import SunshineWire
import X509

/// The verified identity of the node at the other end of a connection, read from its certificate.
public struct PeerCertificate: Sendable, Equatable {
    public var identity: NodeIdentity
    public var summary: CertificateSummary
}

/// Reads the peer's certificate once the TLS handshake completes, before any frame is handed on.
///
/// BoringSSL has already checked the chain to the cluster CA and the validity dates; this handler
/// adds what TLS cannot know: the certificate must not be on the revocation list, must name exactly
/// one node and one role (CN/OU, read by ``NodeIdentity/init(certificate:)``), and the role must be
/// one this side talks to. A refused peer gets one `forbidden` error frame (`id: null`) saying why,
/// and the connection closes; nothing it sent is read.
///
/// The revocation list is asked for at each handshake, not captured when the pipeline is built, so
/// a list the server reloads applies to a handshake already under way.
final class PeerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case verified
        case refused
    }

    private let allowedRoles: Set<NodeRole>
    private let revocations: @Sendable () -> RevocationList
    private let promise: EventLoopPromise<PeerCertificate>
    private var state = State.handshaking

    init(
        allowedRoles: Set<NodeRole>,
        revocations: @escaping @Sendable () -> RevocationList,
        promise: EventLoopPromise<PeerCertificate>
    ) {
        self.allowedRoles = allowedRoles
        self.revocations = revocations
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, case .handshaking = state {
            switch verify(context: context) {
            case .success(let peer):
                state = .verified
                promise.succeed(peer)
            case .failure(let error):
                refuse(context: context, error)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Frames before verification cannot happen in TLS 1.3, but a refused peer's frames must
        // never reach the RPC layer however they arrive.
        guard case .verified = state else { return }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed handshake (unknown CA, expired certificate, plaintext bytes) is the reason the
        // identity never came; keep it so the caller can say so.
        if case .handshaking = state {
            state = .refused
            promise.fail(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .handshaking = state {
            state = .refused
            promise.fail(ChannelError.ioOnClosedChannel)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if case .handshaking = state {
            state = .refused
            promise.fail(ChannelError.ioOnClosedChannel)
        }
    }

    private func verify(context: ChannelHandlerContext) -> Result<PeerCertificate, RPCError> {
        let peerCertificate: NIOSSLCertificate?
        do {
            peerCertificate = try context.pipeline.syncOperations.nioSSL_peerCertificate()
        } catch {
            return .failure(.forbidden("The TLS session has no peer certificate; present a certificate issued by the cluster CA."))
        }
        guard let peerCertificate, let der = try? peerCertificate.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der), let summary = try? CertificateSummary(certificate)
        else {
            return .failure(.forbidden("The peer certificate could not be read; present a certificate issued by the cluster CA."))
        }
        if revocations().revokes(summary) {
            return .failure(.revoked(summary))
        }
        let identity: NodeIdentity
        do {
            identity = try NodeIdentity(certificate: certificate)
        } catch {
            return .failure(.forbidden("\(error)"))
        }
        guard allowedRoles.contains(identity.role) else {
            return .failure(.forbidden("A certificate for role \"\(identity.role.rawValue)\" cannot connect here."))
        }
        return .success(PeerCertificate(identity: identity, summary: summary))
    }

    private func refuse(context: ChannelHandlerContext, _ error: RPCError) {
        state = .refused
        promise.fail(error)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(OutboundMessage.error(id: nil, error))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

extension RPCError {
    /// The refusal of a certificate on the revocation list, at the handshake or when a reloaded list
    /// revokes a peer already connected.
    static func revoked(_ summary: CertificateSummary) -> RPCError {
        let whose = summary.identity.map { "The certificate of \($0.node)" } ?? "The certificate"
        return .forbidden(
            "\(whose) (serial \(summary.serial)) is revoked; ask the county administrator for a new one."
        )
    }
}
