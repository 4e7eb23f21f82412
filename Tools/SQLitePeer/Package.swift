// swift-tools-version: 6.1
// The SQLite peer for `logbook-bench`: the same workload on SQLite through GRDB (events table plus a
// per-job index, WAL). A package of its own so the library, the CLI and their tests never build GRDB.
import PackageDescription

let package = Package(
    name: "SQLitePeer",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0")],
    targets: [
        .executableTarget(name: "SQLitePeer", dependencies: [.product(name: "GRDB", package: "GRDB.swift")])
    ],
    swiftLanguageModes: [.v6]
)
