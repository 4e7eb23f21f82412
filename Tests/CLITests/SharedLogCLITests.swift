import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `logbook --postgres URL`: nodes as separate processes on one throwaway PostgreSQL 15, each with
/// its own replica (docs/scale-out.md). Skipped where Debian's binaries are missing.
@Suite(.enabled(if: PostgresServer.available), .serialized) struct SharedLogCLITests {
    func node(_ cli: CLI, _ server: PostgresServer, _ name: String, _ args: [String]) throws -> ProcessOutput {
        try cli.run(["--postgres", server.url] + args, journal: cli.dir.file("\(name).journal"))
    }

    /// Seed 001 across processes: two nodes finish the same task, each with the version it read.
    /// One process exits 0, the other exits 3 (version conflict) and stores nothing; both
    /// replicas end identical.
    @Test func twoProcessesRacingOnOneVersionOneWinsTheOtherExits3() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let cli = CLI()
        defer { cli.cleanup() }
        #expect(try node(cli, server, "a", ["append", "--job", "task", "--type", "created"]).status == 0)
        #expect(try node(cli, server, "b", ["append", "--job", "task", "--type", "started", "--node", "b"]).status == 0)
        let results = Shared<[Int32]>([])
        let racers = [("a", ["--type", "completed"]), ("b", ["--type", "failed", "--reason", "reconciler"])].map { name, event in
            Thread {
                let out = try? self.node(cli, server, name, ["append", "--job", "task", "--expect-version", "2"] + event)
                results.update { $0.append(out?.status ?? -1) }
            }
        }
        for r in racers { r.start() }
        while results.value.count < 2 { usleep(10_000) }
        #expect(results.value.sorted() == [0, 3])
        let exportA = try node(cli, server, "a", ["export"])
        let exportB = try node(cli, server, "b", ["export"])
        #expect(exportA.status == 0 && exportA.stdout == exportB.stdout && exportA.stdout.split(separator: "\n").count == 3)
        let status = try node(cli, server, "b", ["status", "task", "--json"])
        #expect(status.stdout.contains(#""version":3"#))
    }

    /// A replica is an ordinary journal for reading, and refuses what would make it diverge: local
    /// appends, and maintenance that removes events. A journal with events of its own cannot
    /// become a node's replica.
    @Test func aReplicaReadsLikeAnyJournalAndRefusesLocalWritesAndRemovals() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let cli = CLI()
        defer { cli.cleanup() }
        let replica = cli.dir.file("a.journal")
        let lines = sampleLines + "\n"
        let ingested = try cli.run(["--postgres", server.url, "ingest", "-"], stdin: lines, journal: replica)
        #expect(ingested.status == 0, "\(ingested.stderr)")
        #expect(ingested.stdout.contains("appended 12 events"))
        let local = try cli.run(["append", "--job", "x", "--type", "created"], journal: replica)
        #expect(local.status == 1 && local.stderr.contains("is a replica of") && local.stderr.contains("a local append is refused"))
        let drop = try cli.run(["compact", "--drop-superseded-heartbeats"], journal: replica)
        #expect(drop.status == 1 && drop.stderr.contains("compact --drop-superseded-heartbeats (it removes events)"), "\(drop.stderr)")
        let archive = try cli.run(
            ["archive", "--finalized-before", "2030-01-01T00:00:00Z", "--to", cli.dir.file("bundle.jsonl")], journal: replica)
        #expect(archive.status == 1 && archive.stderr.contains("archive (it removes events)"), "\(archive.stderr)")
        #expect(try cli.run(["compact"], journal: replica).status == 0, "a plain compact of a replica works")
        #expect(try cli.run(["verify"], journal: replica).status == 0)
        let stats = try cli.run(["stats"], journal: replica).stdout
        #expect(stats.contains("replica of:    postgresql:///postgres?host=") && stats.contains("applied through tx "), "\(stats)")
        let statsJSON = try cli.run(["stats", "--json"], journal: replica).stdout
        #expect(statsJSON.contains(#""replicaOf":"postgresql:///postgres?host="#) && statsJSON.contains(#""replicaCursor":{"tx":"#))
        #expect(try cli.run(["status", "scan-3"], journal: replica).stdout.contains("cancelled"))
        #expect(try cli.run(["--postgres", server.url, "demo"], journal: cli.dir.file("demo.journal")).status != 0)
        // The retry window is a duration, named when it is not one.
        let badRetry = try cli.run(["--postgres", server.url, "--postgres-retry", "soon", "append", "--job", "z", "--type", "created"])
        #expect(badRetry.status != 0 && badRetry.stderr.contains("--postgres-retry"), "\(badRetry.stderr)")
        let retry = try cli.run(
            ["--postgres", server.url, "--postgres-retry", "1m", "append", "--job", "z", "--type", "created"], journal: cli.dir.file("r.journal"))
        #expect(retry.status == 0, "\(retry.stderr)")
        // A journal with events of its own is not a replica of anything.
        try cli.ok(["append", "--job", "y", "--type", "created"])
        let adopt = try cli.run(["--postgres", server.url, "status", "y"])
        #expect(adopt.status == 1 && adopt.stderr.contains("cannot be a replica of") && adopt.stderr.contains("events of its own"))
    }

    /// A PostgreSQL that cannot be reached fails a command at once, naming the error once (it was
    /// printed twice: the follower's warning, then the command's error) and its cause (it said only
    /// "no answer within" the connect timeout, after waiting all of it: the pool retries quietly).
    @Test(arguments: [["status", "j"], ["append", "--job", "j", "--type", "created"]])
    func anUnreachableSharedLogIsNamedOnceWithItsCause(command: [String]) throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let url = "postgresql://postgres@/postgres?host=\(cli.dir.file("no-server-here"))&connect_timeout=600"
        let out = try cli.run(["--postgres", url] + command)
        #expect(out.status == 1, "\(out.stderr)")
        #expect(out.stderr.split(separator: "\n").filter { $0.contains("no-server-here") }.count == 1, "\(out.stderr)")
        #expect(out.stderr.contains("cannot connect") && out.stderr.contains("No such file or directory"), "\(out.stderr)")
    }

    /// Two `serve` nodes on one PostgreSQL: an event posted to one is answered with its state there
    /// and seen by the other. The second node is killed with SIGKILL while it applies a large
    /// ingest and restarted: it resumes from its cursor, and both replicas end identical.
    @Test func twoServiceNodesShareOneHistoryAndAKilledNodeResumes() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let cli = CLI()
        defer { cli.cleanup() }
        func serve(_ name: String) throws -> (ChildProcess, Int) {
            let port = HTTPProbe.freePort()
            let child = try ChildProcess(
                builtExecutable("logbook"),
                ["--postgres", server.url, "--journal", cli.dir.file("\(name).journal"), "serve", "--port", String(port)])
            #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil, "node \(name) did not come up")
            return (child, port)
        }
        let (a, portA) = try serve("a")
        defer { a.kill9() }
        var (b, portB) = try serve("b")
        defer { b.kill9() }
        let posted = HTTPProbe.request(
            port: portA, "POST", "/jobs/scan-1/events", headers: ["Content-Type": "application/json"],
            body: #"{"type":"started","node":"a"}"#)
        #expect(posted?.status == 201 && posted?.body.contains(#""status":"running""#) == true, "\(String(describing: posted))")
        let seen = HTTPProbe.poll(port: portB, "/jobs/scan-1") { $0.status == 200 }
        #expect(seen?.body.contains(#""status":"running""#) == true)
        #expect(HTTPProbe.request(port: portB, "GET", "/healthz")?.body.contains(#""sharedLog":{"reachable":true"#) == true)
        #expect(HTTPProbe.request(port: portB, "GET", "/metrics")?.body.contains("logbook_follower_applied_events") == true)
        // The one commit was node a's; b committed none.
        let metricsA = HTTPProbe.request(port: portA, "GET", "/metrics")?.body ?? ""
        #expect(metricsA.contains("\nlogbook_shared_log_commits 1.0\n"), "\(metricsA)")
        #expect(HTTPProbe.request(port: portB, "GET", "/metrics")?.body.contains("\nlogbook_shared_log_commits 0.0\n") == true)
        #expect(HTTPProbe.request(port: portA, "GET", "/metrics")?.body.contains("logbook_shared_log_placed_commits") == true)
        // Which member is the primary (the only one), and no failover seen.
        let member = "postgresql:///postgres?host=\(server.socketDirectory)&port=5432"
        let health = HTTPProbe.request(port: portB, "GET", "/healthz")?.body ?? ""
        #expect(health.contains(#""members":["\#(member)"],"primary":"\#(member)","failovers":0,"lastFailover":null"#), "\(health)")
        let metrics = HTTPProbe.request(port: portB, "GET", "/metrics")?.body ?? ""
        #expect(metrics.contains(#"logbook_shared_log_primary{member="\#(member)"} 1"#), "\(metrics)")
        #expect(metrics.contains("logbook_shared_log_failovers 0"), "\(metrics)")

        // A large ingest through a third replica; node b is killed while it applies it.
        var lines = ""
        for i in 0..<20_000 { lines += #"{"job":"bulk-\#(i % 500)","type":"heartbeat","at":"2026-06-01T10:00:00Z"}"# + "\n" }
        let ingested = try cli.run(["--postgres", server.url, "ingest", "-"], stdin: lines, journal: cli.dir.file("c.journal"))
        #expect(ingested.status == 0, "\(ingested.stderr)")
        _ = HTTPProbe.poll(port: portB, "/healthz") { !$0.body.contains(#""lastSeq":1,"#) }  // it has begun applying
        b.kill9()
        (b, portB) = try serve("b")
        let total = 20_001
        let caughtUp = HTTPProbe.poll(port: portB, "/healthz") { $0.body.contains(#""lastSeq":\#(total)"#) }
        #expect(caughtUp != nil, "node b resumed and caught up")
        _ = HTTPProbe.poll(port: portA, "/healthz") { $0.body.contains(#""lastSeq":\#(total)"#) }
        a.kill9()
        b.kill9()
        let exportA = try cli.run(["export"], journal: cli.dir.file("a.journal"))
        let exportB = try cli.run(["export"], journal: cli.dir.file("b.journal"))
        #expect(exportA.status == 0 && exportA.stdout == exportB.stdout && exportA.stdout.split(separator: "\n").count == total)
        #expect(try cli.run(["verify"], journal: cli.dir.file("b.journal")).status == 0)
    }
}
