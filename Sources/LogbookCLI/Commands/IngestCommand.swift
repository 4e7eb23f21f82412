import ArgumentParser
import Foundation
import Lifecycle
import Logbook
import Synchronization

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Append events from a JSON Lines file, all or none.",
        discussion: """
            One event per line with the event-model fields: job, type, id, at, node, holder, reason, index, \
            attempt, data. Any bad line fails the whole file ("line N: <problem>"), and nothing is stored. \
            Blank lines and a leading UTF-8 byte-order mark are skipped. The file is appended in one \
            transaction. Events with ids (export keeps them) are stored once: ingesting the same file \
            again stores nothing and says so; a file mixing stored and new ids is refused (exit 3).

            Example:
              logbook --journal jobs.journal ingest incident.jsonl
              logbook export --job scan-3 | logbook --journal copy.journal ingest -
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object: appended, firstSeq, lastSeq, alreadyStored.") var json = false

    @Argument(help: "A JSON Lines file, or - for standard input.")
    var file: String

    func run() async throws {
        let bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("\(file): cannot read the file")
            }
            bytes = Array(data)
        }
        let events = try EventLines.parse(bytes, source: file == "-" ? nil : file)
        guard !events.isEmpty else {
            Terminal.line(json ? JSONText.object([("appended", "0"), ("firstSeq", "null"), ("lastSeq", "null"), ("alreadyStored", "false")]) : "appended 0 events")
            return
        }
        let report: Logbook.Maintenance.IngestReport
        if global.postgresURL != nil {
            // Through the shared log: one batch, one PostgreSQL transaction, all or none.
            let outcome = try await global.withWriter(create: true) { logbook in try await logbook.append(events) }
            report = Logbook.Maintenance.IngestReport(
                appended: outcome.replayed ? 0 : outcome.events.count, firstSeq: outcome.seqs.first, lastSeq: outcome.seqs.last,
                alreadyStored: outcome.replayed)
        } else {
            let bar = Mutex(ProgressBar(total: events.count >= ProgressBar.eventThreshold ? events.count : 0, label: "committing", unit: "events"))
            report = try await Logbook.Maintenance.ingest(events, into: global.journalPath) { written in
                bar.withLock { $0.update(written) }
            }
            bar.withLock { $0.finish() }
        }
        let (first, last) = (report.firstSeq ?? 0, report.lastSeq ?? 0)
        Terminal.line(
            json
                ? JSONText.object([
                    ("appended", String(report.appended)), ("firstSeq", String(first)), ("lastSeq", String(last)),
                    ("alreadyStored", report.alreadyStored ? "true" : "false"),
                ])
                : report.alreadyStored
                    ? "already stored: all \(events.count) events have ids stored at seq \(first)...\(last) (nothing appended)"
                    : "appended \(report.appended) events: seq \(first)...\(last)")
    }
}

/// Parsing the ingest format.
enum EventLines {
    /// Every line's event, or the first bad line's error as `line N: <problem>`.
    static func parse(_ bytes: [UInt8], source: String?) throws -> [Event] {
        var events: [Event] = []
        // Lines, counted at memchr speed, bound the events: the bar counts events parsed against them.
        let lines = bytes.count > 4 << 20 ? bytes.reduce(into: 0) { n, b in if b == 0x0A { n += 1 } } + 1 : 0
        var progress = ProgressBar(total: lines >= ProgressBar.eventThreshold ? lines : 0, label: "parsing", unit: "events")
        defer { progress.finish() }
        var lineNumber = 0
        // A UTF-8 byte-order mark (what some Windows editors write first) is not part of line 1.
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            lineNumber += 1
            var line = bytes[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                events.append(try Event(jsonLine: Array(line), acceptingStoredFields: true))
            } catch {
                let prefix = source.map { "\($0): " } ?? ""
                throw CLIError("\(prefix)line \(lineNumber): \(error.message)")
            }
            if lineNumber % 4096 == 0 { progress.update(events.count) }
        }
        return events
    }
}
