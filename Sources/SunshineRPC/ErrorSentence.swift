import NIOCore
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
        case let error as ChannelError:
            return "the connection failed: \(error)"
        default:
            let text = String(describing: error)
            if text.contains("connectTimeout") || text.contains("connection refused") || text.contains("Connection refused") {
                return "the coordinator did not accept the connection (\(text)); is it running at that address?"
            }
            return text
        }
    }
}
