// swift-tools-version:6.1
import PackageDescription

// Sunshine's benchmarks, a package of their own so that their dependencies (grpc-swift 2 and its
// NIO transport, for the baselines) never slow the main build or the test run. It depends on the
// root package by path and drives Sunshine only through its library products and the built
// `sunshine` executable.
//
//   swift run -c release sunshine-bench [SCENARIO…] [--json FILE]
let package = Package(
    name: "sunshine-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sunshine", path: ".."),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "sunshine-bench",
            dependencies: [
                .product(name: "SunshineModel", package: "sunshine"),
                .product(name: "SunshineWire", package: "sunshine"),
                .product(name: "SunshineRPC", package: "sunshine"),
                .product(name: "SunshinePKI", package: "sunshine"),
                .product(name: "SunshineStore", package: "sunshine"),
                .product(name: "SunshineCounty", package: "sunshine"),
                .product(name: "SunshineTownship", package: "sunshine"),
                .product(name: "SunshineAgent", package: "sunshine"),
                .product(name: "SunshineCoordinator", package: "sunshine"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
