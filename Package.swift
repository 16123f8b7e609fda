// swift-tools-version:6.0
import PackageDescription

// Modules depend one way, lightest first (see README "Layout" and docs/architecture.md):
//   SunshineModel (pure domain) ← SunshineStore (the store protocol; SQLite via GRDB, in memory)
//   SunshineStore ← SunshineCounty (the coordinator's core), SunshineTownship (the agent's core) — no sockets
//   SunshineModel ← SunshinePKI (certificates), SunshineWire (frames, JSON-RPC; no sockets)
//   SunshineConsole (terminal layout and raw mode, a leaf of its own) ← sunshine
//   SunshinePKI + SunshineWire ← SunshineRPC (TLS, sockets, async connections)
//   SunshineCounty + SunshineRPC ← SunshineCoordinator;  SunshineTownship + SunshineRPC ← SunshineAgent
//   everything ← sunshine (the CLI)
let package = Package(
    name: "sunshine",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sunshine", targets: ["sunshine"]),
        .library(name: "SunshineWire", targets: ["SunshineWire"]),
        .library(name: "SunshineRPC", targets: ["SunshineRPC"]),
        .library(name: "SunshinePKI", targets: ["SunshinePKI"]),
        .library(name: "SunshineModel", targets: ["SunshineModel"]),
        .library(name: "SunshineConsole", targets: ["SunshineConsole"]),
        // The cores and adapters as libraries too, so that Benchmarks/ (a package of its own, which
        // depends on this one by path) drives Sunshine through the same APIs the CLI uses.
        .library(name: "SunshineStore", targets: ["SunshineStore"]),
        .library(name: "SunshineCounty", targets: ["SunshineCounty"]),
        .library(name: "SunshineTownship", targets: ["SunshineTownship"]),
        .library(name: "SunshineAgent", targets: ["SunshineAgent"]),
        .library(name: "SunshineCoordinator", targets: ["SunshineCoordinator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
    ],
    targets: [
        .target(name: "SunshineModel"),
        .target(name: "SunshineConsole"),
        .target(
            name: "SunshinePKI",
            dependencies: [
                "SunshineModel",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "SunshineWire",
            dependencies: [
                "SunshineModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SunshineRPC",
            dependencies: [
                "SunshineModel",
                "SunshineWire",
                "SunshinePKI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SunshineStore",
            dependencies: [
                "SunshineModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "SunshineCounty",
            dependencies: ["SunshineModel", "SunshineStore"]
        ),
        .target(
            name: "SunshineTownship",
            dependencies: [
                "SunshineModel",
                "SunshineStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SunshineAgent",
            dependencies: [
                "SunshineTownship",
                "SunshineRPC",
                "SunshineStore",
                "SunshineModel",
                "SunshineWire",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SunshineCoordinator",
            dependencies: [
                "SunshineCounty",
                "SunshineRPC",
                "SunshineStore",
                "SunshineModel",
                "SunshineWire",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sunshine",
            dependencies: [
                "SunshinePKI",
                "SunshineWire",
                "SunshineRPC",
                "SunshineAgent",
                "SunshineCoordinator",
                "SunshineCounty",
                "SunshineTownship",
                "SunshineStore",
                "SunshineModel",
                "SunshineConsole",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SunshineTestSupport",
            dependencies: [
                "SunshinePKI", "SunshineModel", "SunshineStore", "SunshineCounty", "SunshineTownship", "SunshineWire", "SunshineRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Tests/SunshineTestSupport"
        ),
        .testTarget(
            name: "SunshineWireTests",
            dependencies: [
                "SunshineWire",
                "SunshineModel",
                "SunshineTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SunshineAgentTests",
            dependencies: ["SunshineAgent", "SunshineTownship", "SunshineRPC", "SunshinePKI", "SunshineStore", "SunshineModel", "SunshineTestSupport"]
        ),
        .testTarget(
            name: "SunshineProcessTests",
            dependencies: ["SunshineStore", "SunshineModel", "SunshineTestSupport"]
        ),
        .testTarget(
            name: "SunshineCLITests",
            dependencies: ["sunshine", "SunshineConsole", "SunshineWire", "SunshineStore", "SunshineTownship", "SunshineModel", "SunshineTestSupport"]
        ),
        // Runs the built `sunshine` binary as a person would, against a coordinator the test starts.
        .testTarget(
            name: "SunshineInterfaceTests",
            dependencies: [
                "SunshineCoordinator", "SunshineAgent", "SunshineTownship", "SunshineStore", "SunshineModel", "SunshineRPC", "SunshineWire",
                "SunshinePKI", "SunshineConsole", "SunshineTestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SunshineCountyTests",
            dependencies: ["SunshineCounty", "SunshineStore", "SunshineModel", "SunshineTestSupport"]
        ),
        .testTarget(
            name: "SunshineTownshipTests",
            dependencies: ["SunshineTownship", "SunshineCounty", "SunshineStore", "SunshineModel", "SunshineTestSupport"]
        ),
        .testTarget(
            name: "SunshineReplicationTests",
            dependencies: [
                "SunshineCoordinator", "SunshineAgent", "SunshineCounty", "SunshineTownship", "SunshineStore", "SunshineModel",
                "SunshineRPC", "SunshineWire", "SunshinePKI", "SunshineTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SunshineStoreTests",
            // GRDB to build a file as an earlier build left it, for the migration tests.
            dependencies: ["SunshineStore", "SunshineModel", "SunshineTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "SunshineModelTests",
            dependencies: ["SunshineModel", "SunshineTestSupport"]
        ),
        .testTarget(
            name: "SunshineConsoleTests",
            dependencies: ["SunshineConsole"]
        ),
        .testTarget(
            name: "SunshinePKITests",
            dependencies: ["SunshinePKI", "SunshineModel", "SunshineTestSupport"]
        ),
        .testTarget(
            name: "SunshineRPCTests",
            dependencies: [
                "SunshineRPC",
                "SunshineModel",
                "SunshineWire",
                "SunshinePKI",
                "SunshineTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
