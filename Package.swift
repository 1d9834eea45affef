// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Ferry",
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries. Debian: libcurl4-openssl-dev, libssl-dev, zlib1g-dev.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),

        .target(name: "DynamoModel"),
        // Loopback HTTP/1.1 server for tests and benchmarks; Foundation-free on purpose.
        .target(name: "LoopbackServer"),
        // In-memory, fault-injecting DynamoDB + Streams stand-in for tests and benchmarks.
        .target(name: "StreamStandIn", dependencies: ["LoopbackServer", "DynamoModel"]),
        .target(
            name: "AWSClient",
            dependencies: [
                "CCurl", "CCrypto", "DynamoModel",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "Replication", dependencies: ["AWSClient", "DynamoModel"]),
        // Reads DynamoDB exports to S3 (manifests, gzip JSON-lines data files).
        .target(name: "Backfill", dependencies: ["CZlib", "CCrypto", "AWSClient", "DynamoModel"]),
        .target(
            name: "Verify",
            dependencies: ["AWSClient", "DynamoModel", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "FerryKit",
            dependencies: [
                "AWSClient", "DynamoModel", "Replication", "Backfill", "Verify",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "ferry",
            dependencies: [
                "AWSClient", "DynamoModel", "Replication", "FerryKit", "Verify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Release-build benchmarks: swift run -c release ferry-bench
        .executableTarget(
            name: "ferry-bench",
            dependencies: ["AWSClient", "DynamoModel", "Replication", "StreamStandIn", "Backfill", "FerryKit", "Verify",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/FerryBench",
            exclude: []),

        .testTarget(name: "DynamoModelTests", dependencies: ["DynamoModel"]),
        .testTarget(
            name: "ReplicationTests",
            dependencies: ["Replication", "StreamStandIn", "AWSClient", "DynamoModel", "LoopbackServer"]),
        .testTarget(name: "BackfillTests", dependencies: ["Backfill", "AWSClient", "DynamoModel", "CZlib"]),
        .testTarget(
            name: "VerifyTests",
            dependencies: ["Verify", "AWSClient", "DynamoModel", "StreamStandIn", "LoopbackServer",
                           .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FerryKitTests", dependencies: ["FerryKit", "AWSClient", "DynamoModel", "Replication", "Verify", "Backfill",
                                                        "LoopbackServer", "StreamStandIn"]),
        .testTarget(name: "LoopbackServerTests", dependencies: ["LoopbackServer"]),
        .testTarget(
            name: "AWSClientTests",
            dependencies: ["AWSClient", "DynamoModel", "LoopbackServer"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "StreamStandInTests",
            dependencies: ["StreamStandIn", "AWSClient", "DynamoModel", "LoopbackServer"]),
    ],
    swiftLanguageModes: [.v6]
)
