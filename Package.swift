// swift-tools-version: 6.1
import PackageDescription

// Layers, arrows pointing one way (docs/architecture.md):
//   LogbookCLI (the `logbook` executable) → LogbookServer (HTTP, reaper, metrics) → Logbook → Journal + Lifecycle
//   LogbookCLI → LogbookPostgres (a `SharedLog` on PostgreSQL) → Logbook
//   Journal → LMDB → CLMDB,   Journal → CCRC32C
//   Lifecycle is pure Swift: the event vocabulary, the fold and the projections. No LMDB, no clock.
//   JobTimeline (pure too) lays out one job's history and draws it; LogbookCLI → JobTimeline → Lifecycle.
// The front ends (LogbookCLI, LogbookServer, LogbookPostgres, JobTimeline) depend on Logbook and
// Lifecycle only: Journal's and LMDB's engine API is `package`, and LayeringTests fails a front end
// that imports a module its target does not list here, or lists Journal or LMDB.
//
// Linux only: the Journal's file locks (`F_OFD_SETLK`), `fdatasync` and thread calls are Glibc's
// (Sources/Journal/Syscalls.swift says what a port needs), so no other platform is declared.
let package = Package(
    name: "Logbook",
    products: [
        .library(name: "Logbook", targets: ["Logbook"]),
        .library(name: "LogbookClient", targets: ["LogbookClient"]),
        .executable(name: "logbook", targets: ["LogbookCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .target(name: "CCRC32C"),
        .target(name: "LMDB", dependencies: ["CLMDB"]),
        .target(name: "Lifecycle"),
        // The few concurrency pieces the others share (one-shot values, wake-ups, deadlines and the
        // alarm thread that bounds them, a condition lock for threads), each on the standard
        // library's Mutex and continuations; the alarms' queue is swift-collections' Heap.
        .target(name: "ConcurrencyKit", dependencies: [.product(name: "HeapModule", package: "swift-collections")]),
        .target(name: "Journal", dependencies: ["LMDB", "CCRC32C", "Lifecycle", "ConcurrencyKit"]),
        .target(name: "JobRunner", dependencies: ["Lifecycle"]),
        .target(name: "Logbook", dependencies: ["Journal", "Lifecycle", "ConcurrencyKit", "JobRunner"]),
        // The timeline layout and its renderers: pure Swift over a job's history, shared by the CLI and the service.
        .target(name: "JobTimeline", dependencies: ["Lifecycle", .product(name: "Mustache", package: "swift-mustache")]),
        .target(
            name: "LogbookServer",
            dependencies: [
                "Logbook", "Lifecycle", "JobTimeline", .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The shared log on PostgreSQL (docs/scale-out.md): `Logbook.Options.sharedLog` for many nodes.
        .target(
            name: "LogbookPostgres",
            dependencies: [
                "Logbook", "Lifecycle", "ConcurrencyKit", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "LogbookCLI",
            dependencies: [
                "Logbook", "Lifecycle", "LogbookServer", "LogbookPostgres", "JobTimeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `logbook-bench` measures the engine's own layers, so it alone of the executables reaches the Journal.
        .executableTarget(
            name: "logbook-bench",
            dependencies: ["Journal", "Lifecycle", "Logbook", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/LogbookBench"
        ),
        // Developer tooling that the tests drive as real processes.
        .target(
            name: "LogbookClient",
            dependencies: [
                "Lifecycle", "JobRunner", .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["openapi-generator-config.yaml", "Generated/openapi.sha256"]
        ),
        .executableTarget(name: "logbook-crash-harness", dependencies: ["Journal", "Lifecycle"], path: "Tools/CrashHarness"),
        .executableTarget(name: "EmbeddingExample", dependencies: ["Logbook"], path: "Tools/EmbeddingExample"),
        .executableTarget(name: "WorkerExample", dependencies: ["Logbook"], path: "Tools/WorkerExample"),
        .executableTarget(name: "RemoteWorkerExample", dependencies: ["LogbookClient"], path: "Tools/RemoteWorkerExample"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB", "TestSupport"]),
        .testTarget(name: "ConcurrencyKitTests", dependencies: ["ConcurrencyKit"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "LMDB", "CCRC32C", "Lifecycle", "ConcurrencyKit", "TestSupport"]),
        .testTarget(
            name: "LifecycleTests",
            dependencies: ["Lifecycle", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "LogbookTests",
            dependencies: ["Logbook", "Journal", "Lifecycle", "ConcurrencyKit", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "ClientTests", dependencies: ["LogbookClient", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["JobTimeline", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "PostgresTests", dependencies: ["LogbookPostgres", "Logbook", "Journal", "Lifecycle", "ConcurrencyKit", "TestSupport"]),
        .testTarget(name: "TimelineTests", dependencies: ["JobTimeline", "Lifecycle", "TestSupport"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "LogbookServer", "Logbook", "Lifecycle", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
