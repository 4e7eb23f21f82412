import ArgumentParser
import Foundation
import Journal
import Lifecycle
import Logbook

/// `logbook-bench`: measures the local engine's own layers (the Journal's appends and scans beside
/// the Logbook API's replay, open and verify), so it lives apart from the product CLI, which reaches
/// storage only through the Logbook API. `Tools/bench/run.sh` runs it beside its peers.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbook-bench",
        abstract: "Measure append, scan, replay and open figures on a throwaway journal (use a release build).",
        discussion: """
            Builds journals in --dir (default: the temp directory) and removes them. Figures:
              append_batched_eps            batches of 10,000 events over 100,000 jobs, ~100 bytes, noSync, index kept
              append_durable_single_eps     one writer heartbeating its job, one event per durable commit
              append_durable_concurrent_eps 64 concurrent tasks, each heartbeating its own job, one durable
                                            event per append (group commit shares the fsyncs)
              group_commit_mean_events      events per commit during the concurrent run
              scan_eps                      full scan checking every record's CRC and layout, reading it
                                            in place (what replay, verify and export do)
              scan_materialized_eps         the same scan making each record an owned RecordedEvent
              export_eps                    `logbook export` of the whole journal (output counted, not written)
              export_bytes_per_event        its JSON Lines size per event
              verify_eps                    `logbook verify` of the journal as appended, no snapshot: CRCs,
                                            event rules, the index against the log
              verify_with_snapshot_eps      the same with a snapshot (and a 1,000-event tail) to check
                                            against a full replay
              replay_eps                    full fold into projections, no snapshot
              open_without_snapshot_ms      opening that journal with a full replay
              open_with_snapshot_ms         opening it with a snapshot plus a 1,000-event tail
              projection_bytes_per_job      resident memory of the projections per job
              hostile_body_ms               parsing a 1 MiB request body of ~90,000 distinct keys (refused
                                            with a 400): linear, where a quadratic duplicate check took minutes

            Example:
              swift build -c release --product logbook-bench && .build/release/logbook-bench --events 10000000 --json
            """
    )

    @Option(help: "Events in the journal.") var events = 1_000_000
    @Option(help: "Durable single appends to time.") var durableEvents = 2_000
    @Option(help: "Durable events per concurrent appender (64 appenders).") var concurrentEvents = 200
    @Option(help: "Where to build the throwaway journals.") var dir: String?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Give every event an id, as a client making appends retryable would: none, random (UUIDv4) or ordered (UUIDv7).")
    var ids: IDKind = .none

    enum IDKind: String, ExpressibleByArgument {
        case none, random, ordered
        func make(_ i: Int) -> EventID? {
            switch self {
            case .none: nil
            case .random: .random()
            case .ordered: .timeOrdered(unixMilliseconds: 1_780_272_000_000 + UInt64(i / 1_000))
            }
        }
    }

    func run() async throws {
        let base = (dir ?? NSTemporaryDirectory()) + "/logbook-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let figures = Figures(printing: !json)
        figures.note("events", Double(events))
        let path = base + "/batched.journal"
        try appendBatched(at: path, figures)
        try scanAndExport(at: path, figures)
        try await replayAndOpen(at: path, figures)
        try await appendDurably(at: base + "/durable.journal", figures)
        parseHostileBody(figures)
        if json { print(JSONText.object(figures.all.map { ($0.0, BenchCommand.jsonNumber($0.1)) })) }
    }

    /// The figures in the order measured; each printed as it comes unless the output is JSON.
    final class Figures {
        private(set) var all: [(String, Double)] = []
        let printing: Bool
        init(printing: Bool) { self.printing = printing }
        func note(_ name: String, _ value: Double) {
            all.append((name, value))
            if printing { FileHandle.standardError.write(Data("  \(name.padding(32)) \(BenchCommand.format(value))\n".utf8)) }
        }
    }

    /// Batched appends, noSync, index maintained. Building the events is the client's work, not the
    /// journal's: only the appends are timed.
    func appendBatched(at path: String, _ figures: Figures) throws {
        var options = Journal.Options()
        options.durability = .noSync
        let journal = try Journal.open(at: path, options: options)
        let batch = 10_000
        var appendTime = 0.0
        var i = 0
        while i < events {
            let n = min(batch, events - i)
            let items = (i..<(i + n)).map { k in
                var event = BenchWorkload.event(k)
                event.id = ids.make(k)
                return AppendItem(event)
            }
            appendTime += try BenchWorkload.time { try journal.appendBlocking(items) }
            i += n
        }
        journal.close()
        figures.note("append_batched_eps", Double(events) / appendTime)
        figures.note("journal_bytes_per_event", Double(Journal.fileSizeOf(path)) / Double(events))
    }

    /// A full scan with CRC checks in a fresh read-only open (memory measured around it), the same
    /// scan making owned events, export with its output counted, and verify without a snapshot.
    func scanAndExport(at path: String, _ figures: Figures) throws {
        var readOnly = Journal.Options()
        readOnly.readOnly = true
        let reader = try Journal.open(at: path, options: readOnly)
        let before = ProcessMemory.now()
        var scanned = 0
        var peakAnon = before.anonymous
        var peakResident = before.resident
        let scanTime = try BenchWorkload.time {
            try reader.scanViews { _ in
                scanned += 1
                if scanned % 250_000 == 0 {
                    let m = ProcessMemory.now()
                    peakAnon = max(peakAnon, m.anonymous)
                    peakResident = max(peakResident, m.resident)
                }
                return true
            }
        }
        let after = ProcessMemory.now()
        figures.note("scan_eps", Double(scanned) / scanTime)
        figures.note("scan_anon_growth_mib", Double(max(peakAnon, after.anonymous) - before.anonymous) / 1_048_576)
        figures.note("scan_rss_before_mib", Double(before.resident) / 1_048_576)
        figures.note("scan_rss_growth_mib", Double(max(peakResident, after.resident) - before.resident) / 1_048_576)
        // The same scan making every record an owned `RecordedEvent` (six strings), as API callers get.
        var materialized = 0
        let materializedTime = try BenchWorkload.time {
            try reader.scan { _ in
                materialized += 1
                return true
            }
        }
        figures.note("scan_materialized_eps", Double(materialized) / materializedTime)
        // `logbook export` of the whole journal, its output counted instead of written.
        var exportedBytes = 0
        var exported = 0
        let exportTime = try BenchWorkload.time {
            exported = try reader.exportJSONLines { exportedBytes += $0.count }
        }
        reader.close()
        figures.note("export_eps", Double(exported) / exportTime)
        figures.note("export_bytes_per_event", Double(exportedBytes) / Double(max(exported, 1)))
        // `logbook verify`: every CRC and rule, the index against the log (no snapshot to replay against).
        var verified = 0
        let verifyTime = try BenchWorkload.time { verified = try Logbook.Maintenance.verify(at: path).records }
        figures.note("verify_eps", Double(verified) / verifyTime)
    }

    /// Open with no snapshot (a full fold), then with a snapshot plus a 1,000-event tail, and verify
    /// with that snapshot to compare against a full replay.
    func replayAndOpen(at path: String, _ figures: Figures) async throws {
        var logOptions = Logbook.Options()
        logOptions.readOnly = true
        logOptions.snapshotEvery = nil
        let memBefore = ProcessMemory.now().anonymous
        let (replayMs, jobs, memAfter) = try {
            let replayed = try Logbook.open(at: path, options: logOptions)
            defer { replayed.close() }  // and released at the end of this closure
            return (replayed.openReport.milliseconds, replayed.currentProjections.jobCount, ProcessMemory.now().anonymous)
        }()
        figures.note("replay_eps", Double(events) / (replayMs / 1000))
        figures.note("open_without_snapshot_ms", replayMs)
        figures.note("projection_bytes_per_job", Double(memAfter - memBefore) / Double(max(jobs, 1)))

        var writable = Logbook.Options()
        writable.durability = .noSync
        writable.snapshotEvery = nil
        let writer = try Logbook.open(at: path, options: writable)
        try await writer.snapshot()
        _ = try await writer.append((events..<(events + 1000)).map { AppendItem(BenchWorkload.event($0)) })
        writer.close()
        let withSnapshot = try Logbook.open(at: path, options: logOptions)
        let openMs = withSnapshot.openReport.milliseconds
        let usedSnapshot = withSnapshot.openReport.snapshotSeq != nil
        withSnapshot.close()
        figures.note("open_with_snapshot_ms", usedSnapshot ? openMs : -1)
        // `logbook verify` again, now with the snapshot to compare with a full replay.
        var verifiedWithSnapshot = 0
        let verifyWithSnapshotTime = try BenchWorkload.time {
            verifiedWithSnapshot = try Logbook.Maintenance.verify(at: path).records
        }
        figures.note("verify_with_snapshot_eps", Double(verifiedWithSnapshot) / verifyWithSnapshotTime)
    }

    /// Durable appends: one at a time, then 64 concurrent appenders through group commit.
    func appendDurably(at durablePath: String, _ figures: Figures) async throws {
        let durable = try Journal.open(at: durablePath)
        let singles = (0..<durableEvents).map { i in
            var event = BenchWorkload.event(BenchWorkload.jobs + i)
            event.job = "worker-single"
            event.id = ids.make(i)
            return [AppendItem(event)]
        }
        let singleTime = try BenchWorkload.time {
            for items in singles { try durable.appendBlocking(items) }
        }
        figures.note("append_durable_single_eps", Double(durableEvents) / singleTime)
        let perAppender = concurrentEvents
        // Each appender is a worker heartbeating its own job, as in a service with 64 running jobs.
        let prepared = (0..<64).map { a in
            (0..<perAppender).map { i in
                var event = BenchWorkload.event(BenchWorkload.jobs + a * perAppender + i)
                event.job = "worker-" + BenchWorkload.pad(a)
                event.id = ids.make(a * perAppender + i)
                return event
            }
        }
        let concurrentTime = try await BenchWorkload.time {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for a in 0..<64 {
                    let mine = prepared[a]
                    group.addTask {
                        for event in mine { try await durable.append(event) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let stats = durable.commitStatistics
        durable.close()
        figures.note("append_durable_concurrent_eps", Double(64 * perAppender) / concurrentTime)
        figures.note("group_commit_mean_events", Double(stats.events - durableEvents) / Double(max(1, stats.commits - durableEvents)))
    }

    /// The worst body the service's 1 MiB limit lets in: one object of distinct keys.
    func parseHostileBody(_ figures: Figures) {
        var hostile = Array("{".utf8)
        var k = 0
        while hostile.count < (1 << 20) - 16 {
            if k > 0 { hostile.append(UInt8(ascii: ",")) }
            hostile += Array("\"k\(k)\":0".utf8)
            k += 1
        }
        hostile.append(UInt8(ascii: "}"))
        let hostileTime = BenchWorkload.time { _ = try? Event.decodeBody(hostile, job: "j") }
        figures.note("hostile_body_ms", hostileTime * 1000)
    }

    static func format(_ v: Double) -> String {
        v >= 1000 ? String(Int(v.rounded())) : String(format1: v)
    }

    static func jsonNumber(_ v: Double) -> String {
        v.rounded() == v || abs(v) >= 1000 ? String(Int(v.rounded())) : String(format1: v)
    }
}

extension String {
    /// One decimal place without Foundation's formatting.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }

    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
