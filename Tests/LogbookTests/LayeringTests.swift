import Foundation
import Testing

/// The layers hold (docs/architecture.md): the front ends reach storage only through the Logbook API.
/// Logbook re-exports nothing wholesale and Journal's and LMDB's engine API is `package`, so a front
/// end can reach the engine only by importing its module; SwiftPM on Linux lets any target import
/// any module the build made, whatever Package.swift says, so this suite does the check it lacks:
/// every target imports only the package's modules it lists as dependencies, and no front end lists
/// the engine's.
@Suite struct LayeringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The front ends (and their pure helpers) and the modules they may not depend on.
    static let frontEnds = ["LogbookCLI", "LogbookServer", "LogbookPostgres", "JobTimeline"]
    static let engine: Set<String> = ["Journal", "LMDB", "CLMDB", "CCRC32C"]

    struct Target {
        var name: String
        var directory: URL
        var dependencies: Set<String>
    }

    /// The package's own targets as Package.swift declares them (`swift package dump-package`, with
    /// a scratch path of its own: `swift test` holds the package's `.build` lock while tests run).
    static func targets() throws -> [Target] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("layering-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "--package-path", root.path, "--scratch-path", scratch.path, "dump-package"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "swift package dump-package failed")
        let package = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let targets = try #require(package["targets"] as? [[String: Any]])
        return targets.compactMap { t in
            guard let name = t["name"] as? String, let type = t["type"] as? String, type != "system" else { return nil }
            let path = (t["path"] as? String) ?? (type == "test" ? "Tests/\(name)" : "Sources/\(name)")
            let dependencies = (t["dependencies"] as? [[String: Any]] ?? []).compactMap { d -> String? in
                ((d["byName"] ?? d["target"]) as? [Any])?.first as? String
            }
            return Target(name: name, directory: root.appendingPathComponent(path), dependencies: Set(dependencies))
        }
    }

    /// The modules a Swift file imports (`import X`, `@testable import X`, `import struct X.Y`, …).
    static func imports(in text: String) -> [(line: Int, module: String)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { n, line in
            var words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
            guard words.first == "import" else { return nil }
            words.removeFirst()
            if let kind = words.first, ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(kind) {
                words.removeFirst()
            }
            guard let path = words.first else { return nil }
            return (n + 1, String(path.split(separator: ".").first ?? path))
        }
    }

    static func swiftFiles(under directory: URL) -> [URL] {
        let names = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String } ?? []
        return names.filter { $0.hasSuffix(".swift") && !$0.contains("Golden/") }.map { directory.appendingPathComponent($0) }
    }

    static let declared = Result { try targets() }

    @Test func everyTargetImportsOnlyThePackageModulesItDependsOn() throws {
        let targets = try Self.declared.get()
        #expect(targets.count > 10, "read the package's targets")
        let local = Set(targets.map(\.name))
        for target in targets {
            let files = Self.swiftFiles(under: target.directory)
            for file in files {
                let text = try String(contentsOf: file, encoding: .utf8)
                for (line, module) in Self.imports(in: text) where local.contains(module) && module != target.name {
                    #expect(
                        target.dependencies.contains(module),
                        "\(file.path):\(line): \(target.name) imports \(module), which its target in Package.swift does not list")
                }
            }
        }
    }

    @Test(arguments: frontEnds)
    func frontEndsDependNeitherOnTheJournalNorOnLMDB(frontEnd: String) throws {
        let target = try #require(try Self.declared.get().first { $0.name == frontEnd })
        #expect(target.dependencies.isDisjoint(with: Self.engine), "\(frontEnd) depends on \(target.dependencies.intersection(Self.engine))")
        #expect(Self.swiftFiles(under: target.directory).count > 0, "found \(frontEnd)'s sources")
    }

    /// `import Logbook` brings the API and the values it names (Logbook+Vocabulary.swift), never a
    /// whole module below it.
    @Test func logbookReExportsNoModuleWholesale() throws {
        for file in Self.swiftFiles(under: Self.root.appendingPathComponent("Sources/Logbook")) {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(!text.contains("@_exported"), "\(file.lastPathComponent) re-exports a module")
        }
    }

    @Test func theImportReaderFindsEveryForm() {
        let text = "import Journal\n@testable import LMDB\nimport struct Lifecycle.Event\n// import CLMDB\nlet importer = 1"
        #expect(Self.imports(in: text).map(\.module) == ["Journal", "LMDB", "Lifecycle"])
    }
}
