import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SunshineRPC

// "What a user would pick instead": grpc-swift 2 over HTTP/2 with mTLS (the same certificates),
// and JSON as the codec — Foundation's JSONEncoder/JSONDecoder made once, which is what a Codable
// user writes. No code generation: the service is registered by hand, as generated code would.

/// JSON coding of a Codable message for gRPC.
struct JSONSerializer<Message: Encodable & Sendable>: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        Bytes(try GRPCJSON.encoder.encode(message))
    }
}

struct JSONDeserializer<Message: Decodable & Sendable>: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        try serializedMessageBytes.withUnsafeBytes { raw in
            try GRPCJSON.decoder.decode(Message.self, from: Data(raw))
        }
    }
}

enum GRPCJSON {
    static let encoder = JSONEncoder()
    static let decoder = JSONDecoder()
}

/// The messages: a ping like Sunshine's, and a ballot record with the same members as Sunshine's.
struct GPing: Codable, Sendable { var seq: Int64?; var outbox: Int64? }
struct GEmpty: Codable, Sendable {}
struct GBallotRecord: Codable, Sendable {
    struct Paper: Codable, Sendable {
        var contest: String
        var round: String
        var station: String
        var serial: Int64
        var choices: [String]
        var valid: Bool
    }
    var key: String
    var kind: String
    var township: String
    var clock: [String: UInt64]
    var origin: String
    var at: String
    var deleted: Bool
    var data: Paper
}
struct GPushSummary: Codable, Sendable { var accepted: Int }

enum BenchService {
    static let ping = MethodDescriptor(fullyQualifiedService: "sunshine.bench.County", method: "Ping")
    static let push = MethodDescriptor(fullyQualifiedService: "sunshine.bench.County", method: "Push")
}

/// The server side: a unary ping and a client-streaming push that decodes every record.
struct BenchGRPCService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: BenchService.ping, deserializer: JSONDeserializer<GPing>(), serializer: JSONSerializer<GEmpty>()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            _ = single.message
            return StreamingServerResponse(single: ServerResponse(message: GEmpty()))
        }
        router.registerHandler(
            forMethod: BenchService.push, deserializer: JSONDeserializer<GBallotRecord>(),
            serializer: JSONSerializer<GPushSummary>()
        ) { request, _ in
            var accepted = 0
            for try await record in request.messages where !record.key.isEmpty { accepted += 1 }
            return StreamingServerResponse(single: ServerResponse(message: GPushSummary(accepted: accepted)))
        }
    }
}

/// A gRPC server and a connected client for one scenario.
struct GRPCPair {
    static func run<T: Sendable>(
        pki: BenchPKI, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
    ) async throws -> T {
        let server = pki.credentials("coordinator")
        let client = pki.credentials("township-01")
        let ca = TLSConfig.CertificateSource.file(path: server.caPath, format: .pem)
        let serverTransport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0),
            transportSecurity: .mTLS(
                certificateChain: [.file(path: server.certificatePath, format: .pem)],
                privateKey: .file(path: server.keyPath, format: .pem)
            ) { config in
                config.trustRoots = .certificates([ca])
                config.clientCertificateVerification = .noHostnameVerification
            }
        )
        let grpcServer = GRPCServer(transport: serverTransport, services: [BenchGRPCService()])
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { try await grpcServer.serve() }
            defer { grpcServer.beginGracefulShutdown() }
            guard let address = try await serverTransport.listeningAddress.ipv4 else {
                throw BenchError("the gRPC server has no IPv4 address")
            }
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: address.port),
                transportSecurity: .mTLS(
                    certificateChain: [.file(path: client.certificatePath, format: .pem)],
                    privateKey: .file(path: client.keyPath, format: .pem)
                ) { config in
                    config.trustRoots = .certificates([ca])
                    config.serverCertificateVerification = .noHostnameVerification
                }
            )
            let grpcClient = GRPCClient(transport: transport)
            group.addTask { try await grpcClient.runConnections() }
            defer { grpcClient.beginGracefulShutdown() }
            let value = try await body(grpcClient)
            grpcClient.beginGracefulShutdown()
            grpcServer.beginGracefulShutdown()
            try await group.waitForAll()
            return value
        }
    }

    /// `count` unary pings; the round-trip time of each, in µs.
    static func unary(_ client: GRPCClient<HTTP2ClientTransport.Posix>, count: Int) async throws -> [Double] {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let start = monotonicNanos()
            _ = try await client.unary(
                request: ClientRequest(message: GPing()), descriptor: BenchService.ping,
                serializer: JSONSerializer<GPing>(),
                deserializer: JSONDeserializer<GEmpty>(), options: .defaults
            ) { response in try response.message }
            samples.append(Double(monotonicNanos() - start) / 1_000)
        }
        return samples
    }

    /// One client-streaming call carrying every record; the seconds it took.
    static func stream(_ client: GRPCClient<HTTP2ClientTransport.Posix>, records: [GBallotRecord]) async throws
        -> Double
    {
        let start = monotonicNanos()
        let summary = try await client.clientStreaming(
            request: StreamingClientRequest(of: GBallotRecord.self) { writer in
                for record in records { try await writer.write(record) }
            },
            descriptor: BenchService.push, serializer: JSONSerializer<GBallotRecord>(),
            deserializer: JSONDeserializer<GPushSummary>(), options: .defaults
        ) { response in try response.message }
        guard summary.accepted == records.count else { throw BenchError("gRPC push accepted \(summary.accepted)") }
        return Double(monotonicNanos() - start) / 1e9
    }
}
