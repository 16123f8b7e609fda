import NIOCore
import NIOPosix
import NIOSSL
import SunshineWire

/// Turns the errors a connection can end with into one sentence for a person.
public enum ErrorSentence {
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let error as RPCError:
            return error.message
        case let error as RPCCallError:
            return error.description
        case let error as TLSSetupError:
            return error.description
        case let error as NIOSSLError:
            return "the TLS handshake failed (\(error)); check that both sides use certificates from the same cluster CA and that they are valid today"
        case let error as BoringSSLError:
            return "the TLS handshake failed (\(error)); check that both sides use certificates from the same cluster CA and that they are valid today"
        case let error as IOError:
            return "the connection failed: \(error.description)"
        case let error as NIOConnectionError:
            let reasons = error.connectionErrors.map { "\($0.error)" }.joined(separator: "; ")
            return "nothing accepted the connection at \(error.host):\(error.port) (\(reasons.isEmpty ? "no address" : reasons)); is the coordinator running there?"
        case ChannelError.connectTimeout(let timeout):
            return "the coordinator did not answer within \(timeout); check the address and the network"
        case let error as ChannelError:
            return "the connection failed: \(error)"
        default:
            return String(describing: error)
        }
    }
}
