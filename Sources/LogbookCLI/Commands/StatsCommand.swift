import ArgumentParser
import Logbook

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarise the journal: events, jobs, statuses, types, sizes, snapshot.",
        discussion: """
            Example:
              logbook stats
              logbook stats --json | jq .jobs
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let logbook = try global.openForReading()
        defer { logbook.close() }
        let journal = logbook.journal
        var byType: [EventType: Int] = [:]
        var first: RecordedEvent?
        // The time span is the earliest and latest `at`, not the first and last seq's: writers'
        // clocks disagree, and a late-stamped event must not shrink the span.
        var earliest: Timestamp?
        var latest: Timestamp?
        var events = 0
        try journal.scan { e in
            if first == nil { first = e }
            earliest = min(earliest ?? e.at, e.at)
            latest = max(latest ?? e.at, e.at)
            byType[e.event.type, default: 0] += 1
            events += 1
            return true
        }
        let projections = logbook.currentProjections
        let byStatus = projections.statusCounts
        let snapshotSeq = try journal.latestSnapshot()?.seq
        if json {
            func counts<K>(_ keys: [K], _ name: (K) -> String, _ value: (K) -> Int) -> String {
                JSONText.object(keys.map { (name($0), String(value($0))) })
            }
            Terminal.line(JSONText.object([
                ("events", String(events)),
                ("jobs", String(projections.jobCount)),
                ("jobsByStatus", counts(JobStatus.allCases, \.name) { byStatus[$0] ?? 0 }),
                ("eventsByType", counts(EventType.allCases, \.name) { byType[$0] ?? 0 }),
                ("firstSeq", first.map { String($0.seq) } ?? "null"),
                ("lastSeq", String(try journal.lastSeq())),
                ("firstAt", earliest.map { JSONText.quoted($0.rfc3339) } ?? "null"),
                ("lastAt", latest.map { JSONText.quoted($0.rfc3339) } ?? "null"),
                ("anomalies", String(projections.anomalyTotal)),
                ("fileBytes", String(journal.fileSize)),
                ("mapBytes", String(journal.mapSize)),
                ("snapshotSeq", snapshotSeq.map { String($0) } ?? "null"),
            ]))
            return
        }
        var lines = [
            "events:        \(events) (seq \(first.map { String($0.seq) } ?? "-")...\(try journal.lastSeq()))",
            "time span:     \(earliest?.rfc3339 ?? "-") ... \(latest?.rfc3339 ?? "-")",
            "jobs:          \(projections.jobCount)",
        ]
        for s in JobStatus.allCases where byStatus[s] != nil { lines.append("  \(s.name.padding(13))\(byStatus[s] ?? 0)") }
        lines.append("events by type:")
        for t in EventType.allCases where byType[t] != nil { lines.append("  \(t.name.padding(13))\(byType[t] ?? 0)") }
        lines.append("anomalies:     \(projections.anomalyTotal)")
        lines.append("file size:     \(ByteCount.format(journal.fileSize)) (map \(ByteCount.format(journal.mapSize)))")
        lines.append("snapshot:      \(snapshotSeq.map { "covers seq \($0)" } ?? "none")")
        Terminal.write(lines.joined(separator: "\n") + "\n")
    }
}

enum ByteCount {
    static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format1: value) + " " + units[unit]
    }
}

extension String {
    /// One decimal place without Foundation.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
