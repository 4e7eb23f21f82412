// swift-tools-version: 6.1
import PackageDescription

// Layers, arrows pointing one way:
//   LogbookCLI (the `logbook` executable) → Logbook → Journal + Lifecycle
//   Journal → LMDB → CLMDB,   Journal → CCRC32C
//   Lifecycle is pure Swift: the event vocabulary, the fold and the projections. No LMDB, no clock.
let package = Package(
    name: "Logbook",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Logbook", targets: ["Logbook"]),
        .executable(name: "logbook", targets: ["LogbookCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .target(name: "CCRC32C"),
        .target(name: "LMDB", dependencies: ["CLMDB"]),
        .target(name: "Lifecycle"),
        .target(name: "Journal", dependencies: ["LMDB", "CCRC32C", "Lifecycle"]),
        .target(name: "Logbook", dependencies: ["Journal", "Lifecycle"]),
        .executableTarget(
            name: "LogbookCLI",
            dependencies: ["Logbook", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Developer tooling that the tests drive as real processes.
        .executableTarget(name: "logbook-crash-harness", dependencies: ["Journal"], path: "Tools/CrashHarness"),
        .executableTarget(name: "EmbeddingExample", dependencies: ["Logbook"], path: "Tools/EmbeddingExample"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB", "TestSupport"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "LMDB", "CCRC32C", "TestSupport"]),
        .testTarget(
            name: "LifecycleTests",
            dependencies: ["Lifecycle", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "LogbookTests",
            dependencies: ["Logbook", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
