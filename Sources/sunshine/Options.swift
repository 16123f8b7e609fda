import ArgumentParser
import Foundation
import Logging
import SunshinePKI
import SunshineRPC
import SunshineStore

/// Flags win over the environment (`SUNSHINE_…`), which wins over the built-in default (DESIGN §5).
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

/// `--pki DIR [--node NAME]` or `--cert FILE --key FILE --ca FILE`.
struct CredentialOptions: ParsableArguments {
    @Option(help: "Directory made by `sunshine certs init` (env SUNSHINE_PKI); uses DIR/ca.pem, DIR/NODE.pem, DIR/NODE.key.")
    var pki: String?

    @Option(help: "This node's certificate, PEM (env SUNSHINE_CERT).")
    var cert: String?

    @Option(help: "This node's private key, PEM (env SUNSHINE_KEY).")
    var key: String?

    @Option(help: "The cluster CA certificate, PEM (env SUNSHINE_CA).")
    var ca: String?

    /// The credentials for `node`, or a usage error naming what is missing.
    func resolve(node: String) throws -> NodeCredentials {
        let cert = self.cert ?? Environment.value("SUNSHINE_CERT")
        let key = self.key ?? Environment.value("SUNSHINE_KEY")
        let ca = self.ca ?? Environment.value("SUNSHINE_CA")
        let pki = self.pki ?? Environment.value("SUNSHINE_PKI")
        if cert != nil || key != nil || ca != nil {
            guard let cert, let key, let ca else {
                throw ValidationError("--cert, --key and --ca go together; give all three, or --pki DIR instead.")
            }
            return NodeCredentials(certificatePath: cert, keyPath: key, caPath: ca)
        }
        guard let pki else {
            throw ValidationError("No certificates given: pass --pki DIR (made by `sunshine certs init`) or --cert, --key and --ca.")
        }
        return NodeCredentials(pki: PKIDirectory(path: pki), node: node)
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "trace, debug, info, notice, warning or error (env SUNSHINE_LOG_LEVEL).")
    var logLevel: String?

    func bootstrap() throws {
        let text = logLevel ?? Environment.value("SUNSHINE_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: text) else {
            throw ValidationError("--log-level \(text) is not a level; use trace, debug, info, notice, warning or error.")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Endpoint {
    /// Parses a `HOST:PORT` option value, or says what is wrong with it.
    static func option(_ text: String, flag: String) throws -> Endpoint {
        guard let endpoint = Endpoint(parsing: text) else {
            throw ValidationError("\(flag) \(text) is not HOST:PORT (for example 127.0.0.1:7420).")
        }
        return endpoint
    }
}

/// Runs set-up whose errors already say, in one sentence, what is wrong and what to do
/// (certificates, TLS, the store), and makes them the command's failure.
func oneSentence<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PKIError {
        throw CommandFailure(error.description)
    } catch let error as TLSSetupError {
        throw CommandFailure(error.description)
    } catch let error as StoreError {
        throw CommandFailure(error.description)
    }
}

/// An error the CLI prints as its single sentence before exiting non-zero.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// `--data DIR` (env SUNSHINE_DATA): where a node keeps its store, `DIR/NODE.sqlite`.
struct DataOptions: ParsableArguments {
    @Option(help: "Directory for this node's database (env SUNSHINE_DATA; default ./sunshine-data).")
    var data: String?

    func openStore(node: String) throws -> ReplicaStore {
        let directory = data ?? Environment.value("SUNSHINE_DATA") ?? "sunshine-data"
        return try oneSentence { try ReplicaStore(path: (directory as NSString).appendingPathComponent("\(node).sqlite"), node: node) }
    }
}
