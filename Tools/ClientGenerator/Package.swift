// swift-tools-version: 6.0
// Runs swift-openapi-generator for Tools/generate-client.sh, apart from the main package, so that
// building or testing Logbook never builds the generator (the generated client is committed).
import PackageDescription

let package = Package(
    name: "ClientGenerator",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3")
    ]
)
