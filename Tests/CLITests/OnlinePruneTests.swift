import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `compact --drop-superseded-heartbeats` beside a running service (docs/operations.md, "Retention
/// without downtime"): clients keep appending while it runs; none is refused or lost, the journal
/// stays sound, and the service folds the same states from the pruned journal after a restart.
@Suite(.serialized, .timeLimit(.minutes(3))) struct OnlinePruneTests {
    @Test func droppingSupersededHeartbeatsBesideAServiceUnderLoadLosesNothingAndChangesNoState() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try CLICrashTests.heartbeatHeavyJournal(cli)
        let port = HTTPProbe.freePort()
        var serve = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port)])
        defer { serve.kill9() }
        #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil, "\(serve.diagnosis)")
        let stop = Guarded(false)
        let acknowledged = Guarded(0)
        let refused = Guarded<[String]>([])
        let clients = DispatchGroup()
        for client in 0..<2 {
            clients.enter()
            Thread {
                var i = 0
                while !stop.withLock({ $0 }) {
                    let job = "j\((i * 2 + client) % 200)"
                    let answer = HTTPProbe.request(port: port, "POST", "/jobs/\(job)/events", body: #"{"type":"heartbeat"}"#)
                    if answer?.status == 201 { acknowledged.withLock { $0 += 1 } } else {
                        refused.withLock { $0.append("\(answer?.status ?? 0) \(answer?.body ?? "no answer")") }
                    }
                    i += 1
                }
                clients.leave()
            }.start()
        }
        usleep(100_000)
        let pruned = try cli.run(["compact", "--drop-superseded-heartbeats", "--json"])
        usleep(100_000)
        stop.withLock { $0 = true }
        clients.wait()
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let dropped = (try? JSONSerialization.jsonObject(with: Data(pruned.stdout.utf8)) as? [String: Any])?["dropped"] as? Int ?? -1
        #expect(dropped >= 200 * 149, "every heartbeat superseded before the run: \(dropped)")
        #expect(refused.withLock { $0 }.isEmpty, "appends refused during the drop: \(refused.withLock { $0.prefix(3) })")
        let live = try #require(HTTPProbe.request(port: port, "GET", "/jobs?now=2026-06-02T00:00:00Z")).body
        serve.kill9()
        try cli.ok(["verify"])
        #expect(try cli.eventCount() == 200 * 151 + acknowledged.withLock { $0 } - dropped, "every acknowledged append is there")
        serve = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port)])
        #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil, "\(serve.diagnosis)")
        let refolded = try #require(HTTPProbe.request(port: port, "GET", "/jobs?now=2026-06-02T00:00:00Z")).body
        #expect(refolded == live, "the states folded from the pruned journal are the service's")
        print("appends acknowledged during the run: \(acknowledged.withLock { $0 }), heartbeats dropped: \(dropped)")
    }
}

extension OnlinePruneTests {
    /// `serve --drop-superseded-heartbeats-every 1s` prunes on its own schedule (polled until it has,
    /// not timed); with `--postgres` it is refused before anything starts.
    @Test func theServiceDropsSupersededHeartbeatsOnItsScheduleAndRefusesItOnAReplica() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: sampleLines)
        let port = HTTPProbe.freePort()
        let serve = try ChildProcess(
            builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port), "--drop-superseded-heartbeats-every", "1s"])
        defer { serve.kill9() }
        let pruned = HTTPProbe.poll(port: port, "/healthz") { $0.body.contains(#""prunedTotal":2"#) }
        #expect(pruned != nil, "retention never ran: \(serve.diagnosis)")
        #expect(try #require(HTTPProbe.request(port: port, "GET", "/metrics")).body.contains("logbook_pruned_events_total 2"))
        serve.kill9()
        #expect(try cli.eventCount() == 10, "the sample's two superseded heartbeats")
        let refused = try cli.run(["--postgres", "postgresql://postgres@/postgres?host=/nonexistent", "serve", "--drop-superseded-heartbeats-every", "1h"])
        #expect(refused.status != 0 && refused.stderr.contains("refused with --postgres"), "\(refused.stderr)")
    }

    /// `serve --archive-every 1s --archive-after 1d --archive-to DIR` archives on its own schedule
    /// (polled until it has, not timed) into a dated bundle; a CLI `archive` beside it reaches its
    /// queries at the next refresh; the options go together and are refused with --postgres.
    @Test func theServiceArchivesOnItsScheduleAndSeesAnArchiveBesideIt() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: RetentionCommandTests.retentionLines(finished: 6, open: 4))
        let bundles = cli.dir.file("bundles")
        try FileManager.default.createDirectory(atPath: bundles, withIntermediateDirectories: false)
        let port = HTTPProbe.freePort()
        let serve = try ChildProcess(
            builtExecutable("logbook"),
            ["--journal", cli.journal, "serve", "--port", String(port), "--archive-every", "1s", "--archive-after", "1d", "--archive-to", bundles])
        defer { serve.kill9() }
        // The six finished jobs and "late" (its last event, June 3rd, is more than a day ago too).
        let archived = HTTPProbe.poll(port: port, "/healthz") { $0.body.contains(#""archivedTotal":7"#) }
        #expect(archived != nil, "the archive never ran: \(serve.diagnosis)")
        #expect(try #require(HTTPProbe.request(port: port, "GET", "/jobs/done-0")).status == 404)
        let files = try FileManager.default.contentsOfDirectory(atPath: bundles)
        #expect(files.count == 1 && files[0].hasPrefix("archive-") && files[0].hasSuffix("Z.jsonl"), "\(files)")
        #expect(try String(contentsOfFile: bundles + "/" + files[0], encoding: .utf8).split(separator: "\n").count == 6 * 7 + 3)
        #expect(try #require(HTTPProbe.request(port: port, "GET", "/metrics")).body.contains("logbook_archived_jobs_total 7"))
        serve.kill9()
        #expect(try cli.ok(["verify"]).hasPrefix("sound:"))

        for (args, message) in [
            (["--archive-every", "1h"], "go together"),
            (["--archive-every", "1h", "--archive-after", "1d", "--archive-to", cli.dir.file("nope")], "is not a directory"),
        ] {
            let out = try cli.run(["serve"] + args)
            #expect(out.status == 64 && out.stderr.contains(message), "\(args): \(out.stderr)")
        }
        let refused = try cli.run(
            ["--postgres", "postgresql://postgres@/postgres?host=/nonexistent", "serve", "--archive-every", "1h", "--archive-after", "1d",
             "--archive-to", bundles])
        #expect(refused.status != 0 && refused.stderr.contains("refused with --postgres"), "\(refused.stderr)")
    }

    /// `logbook archive` from the CLI beside a serving process: the service's queries forget the
    /// jobs at its next refresh (polled), and a job created again through the service starts anew.
    @Test func aCLIArchiveBesideTheServiceReachesItsQueries() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: RetentionCommandTests.retentionLines(finished: 5, open: 3))
        let port = HTTPProbe.freePort()
        let serve = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port)])
        defer { serve.kill9() }
        #expect(HTTPProbe.poll(port: port, "/jobs/done-1") { $0.status == 200 } != nil, "\(serve.diagnosis)")
        let out = try cli.ok(["archive", "--finalized-before", "2026-06-02T00:00:00Z", "--to", cli.dir.file("b.jsonl")])
        #expect(out.hasPrefix("archived 5 jobs (35 events)"), "\(out)")
        #expect(HTTPProbe.poll(port: port, "/jobs/done-1") { $0.status == 404 } != nil, "the service never forgot done-1")
        let created = try #require(HTTPProbe.request(port: port, "POST", "/jobs/done-1/events", body: #"{"type":"created"}"#))
        #expect(created.status == 201 && created.body.contains(#""version":1"#), "\(created.body)")
        serve.kill9()
        #expect(try cli.ok(["verify"]).hasPrefix("sound:"))
    }
}
