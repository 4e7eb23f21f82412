import ArgumentParser
import Lifecycle
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
        let logbook = try await global.openForReading()
        defer { logbook.close() }
        let storage = try logbook.maintenance.storageStatistics()
        let projections = logbook.currentProjections
        let byStatus = projections.statusCounts
        if json {
            func counts<K>(_ keys: [K], _ name: (K) -> String, _ value: (K) -> Int) -> String {
                JSONText.object(keys.map { (name($0), String(value($0))) })
            }
            Terminal.line(JSONText.object([
                ("events", String(storage.events)),
                ("jobs", String(projections.jobCount)),
                ("jobsByStatus", counts(JobStatus.allCases, \.name) { byStatus[$0] ?? 0 }),
                ("eventsByType", counts(EventType.allCases, \.name) { storage.eventsByType[$0] ?? 0 }),
                ("firstSeq", storage.firstSeq.map { String($0) } ?? "null"),
                ("lastSeq", String(storage.lastSeq)),
                ("firstAt", storage.earliestAt.map { JSONText.quoted($0.rfc3339) } ?? "null"),
                ("lastAt", storage.latestAt.map { JSONText.quoted($0.rfc3339) } ?? "null"),
                ("anomalies", String(projections.anomalyTotal)),
                ("fileBytes", String(storage.fileBytes)),
                ("mapBytes", String(storage.mapBytes)),
                ("snapshotSeq", storage.snapshotSeq.map { String($0) } ?? "null"),
                ("replicaOf", storage.replicaOf.map(JSONText.quoted) ?? "null"),
                ("replicaCursor", storage.replicaCursor.map {
                    JSONText.object([("tx", String($0.tx)), ("position", String($0.position))])
                } ?? "null"),
            ]))
            return
        }
        var lines = [
            "events:        \(storage.events) (seq \(storage.firstSeq.map { String($0) } ?? "-")...\(storage.lastSeq))",
            "time span:     \(storage.earliestAt?.rfc3339 ?? "-") ... \(storage.latestAt?.rfc3339 ?? "-")",
            "jobs:          \(projections.jobCount)",
        ]
        for s in JobStatus.allCases where byStatus[s] != nil { lines.append("  \(s.name.padding(13))\(byStatus[s] ?? 0)") }
        lines.append("events by type:")
        for t in EventType.allCases where storage.eventsByType[t] != nil { lines.append("  \(t.name.padding(13))\(storage.eventsByType[t] ?? 0)") }
        lines.append("anomalies:     \(projections.anomalyTotal)")
        lines.append("file size:     \(ByteCount.format(storage.fileBytes)) (map \(ByteCount.format(storage.mapBytes)))")
        lines.append("snapshot:      \(storage.snapshotSeq.map { "covers seq \($0)" } ?? "none")")
        if let log = storage.replicaOf {
            let cursor = storage.replicaCursor.map { "applied through tx \($0.tx), position \($0.position)" } ?? "nothing applied yet"
            lines.append("replica of:    \(log.printable) (\(cursor))")
        }
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
