// swift-tools-version: 6.1
// libFuzzer targets for Logbook's parsers. Build and run with ./run.sh (see docs/fuzzing.md);
// they only link with `--sanitize=fuzzer`, which supplies `main`.
import PackageDescription

let fuzzTarget: (String) -> Target = { name in
    .executableTarget(
        name: name, dependencies: [.product(name: "Logbook", package: "Logbook")],
        swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "LogbookFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Logbook", path: "../..")],
    targets: ["fuzz-record", "fuzz-json-line", "fuzz-snapshot", "fuzz-event-body"].map(fuzzTarget),
    swiftLanguageModes: [.v6]
)
