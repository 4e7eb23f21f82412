import Foundation
import Testing

/// The front door holds: the CLI and the service reach storage only through the Logbook API
/// (issue 15's seam for another backend). Read from the sources, so a new shortcut fails here.
@Suite struct LayeringTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// `logbook bench` measures the local engine's own layers (docs/performance.md): the one exception.
    static let exceptions: Set<String> = ["BenchCommand.swift"]

    @Test(arguments: ["LogbookCLI", "LogbookServer"])
    func frontEndsUseNeitherTheJournalNorLMDB(module: String) throws {
        let root = Self.sources.appendingPathComponent(module)
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !Self.exceptions.contains(($0 as NSString).lastPathComponent) }
        #expect(files.count > 5, "found the sources")
        // `.journal.x` is a member of a journal; `./logbook.journal. ` in a help text is not.
        let forbidden = ["Journal.", "Journal(", "import Journal", "import LMDB", "import CLMDB", "Environment("]
            + "abcdefghijklmnopqrstuvwxyz".map { ".journal.\($0)" }
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for token in forbidden where code.contains(token) && !code.contains("IncidentJournal") {
                    Issue.record("\(module)/\(file):\(n + 1) uses \(token) — go through the Logbook API: \(line)")
                }
            }
        }
    }
}
