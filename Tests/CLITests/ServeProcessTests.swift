import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `logbook serve` as a real process beside other real processes: writes from the CLI are seen,
/// one service owns a journal, a port in use is reported before anything is opened.
@Suite(.serialized) struct ServeProcessTests {
    /// Starts `serve` on a free port and waits until it answers.
    func startServe(_ cli: CLI, journal: String? = nil) throws -> (ChildProcess, Int) {
        let port = HTTPProbe.freePort()
        let child = try ChildProcess(
            builtExecutable("logbook"), ["--journal", journal ?? cli.journal, "serve", "--port", String(port)])
        let ready = HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 }
        #expect(ready != nil, "serve did not come up on port \(port)")
        return (child, port)
    }

    @Test func aCLIAppendBesideTheServiceIsSeenByQueriesAndFollowers() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", "x", "--type", "created"])
        let (serve, port) = try startServe(cli)
        defer { serve.kill9() }
        #expect(HTTPProbe.request(port: port, "GET", "/jobs/y")?.status == 404)
        try cli.ok(["append", "--job", "y", "--type", "started", "--node", "n1"])
        // Folded in by the service's watcher (every 250 ms); polled here, never timed.
        let seen = HTTPProbe.poll(port: port, "/jobs/y") { $0.status == 200 }
        #expect(seen?.body.contains(#""status":"running""#) == true)
        // An SSE follower from seq 1 gets the foreign event too (limit ends the stream).
        let sse = HTTPProbe.request(port: port, "GET", "/events?after=1&limit=1")
        #expect(sse?.body.contains("id: 2\n") == true)
        #expect(sse?.body.contains(#""job":"y""#) == true)
        #expect(HTTPProbe.request(port: port, "GET", "/healthz")?.body.contains(#""lastSeq":2"#) == true)
    }

    @Test func aSecondServiceOnTheSameJournalRefusesNamingIt() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", "x", "--type", "created"])
        let (serve, _) = try startServe(cli)
        defer { serve.kill9() }
        let second = try cli.run(["serve", "--port", String(HTTPProbe.freePort())])
        #expect(second.status != 0)
        #expect(second.stderr.contains("journal \(cli.journal) is already served by another process"))
        // CLI reads and appends keep working beside the service.
        try cli.ok(["append", "--job", "x", "--type", "started"])
        #expect(try cli.ok(["status", "x", "--json"]).contains(#""status":"running""#))
    }

    @Test func aPortInUseIsReportedBeforeTheJournalIsOpened() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", "x", "--type", "created"])
        let (serve, port) = try startServe(cli)
        defer { serve.kill9() }
        let other = cli.dir.file("other.journal")
        let out = try cli.run(["serve", "--port", String(port)], journal: other)
        #expect(out.status != 0)
        #expect(out.stderr.contains("cannot listen on 127.0.0.1:\(port): the address is already in use"))
        #expect(access(other, F_OK) != 0, "no journal was created")
    }

    @Test func aNonLoopbackHostWithoutATokenRefusesToStart() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let out = try cli.run(["serve", "--host", "0.0.0.0", "--port", String(HTTPProbe.freePort())])
        #expect(out.status != 0)
        #expect(out.stderr.contains("--host 0.0.0.0 is reachable from other machines: give --token-file"))
        #expect(access(cli.journal, F_OK) != 0, "nothing was opened")
        let empty = try cli.write("empty.token", "\n")
        let bad = try cli.run(["serve", "--token-file", empty])
        #expect(bad.status != 0 && bad.stderr.contains("must hold one token"))
    }

    @Test func aTokenFileGuardsTheRealService() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["append", "--job", "x", "--type", "created"])
        let tokenFile = try cli.write("t.token", "tok-123\n")
        let port = HTTPProbe.freePort()
        let child = try ChildProcess(
            builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port), "--token-file", tokenFile])
        defer { child.kill9() }
        #expect(HTTPProbe.poll(port: port, "/healthz") { $0.status == 200 } != nil)
        #expect(HTTPProbe.request(port: port, "GET", "/jobs/x")?.status == 401)
        #expect(HTTPProbe.request(port: port, "GET", "/jobs/x", headers: ["Authorization": "Bearer tok-123"])?.status == 200)
    }
}
