import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Admin commands keep what an operator set, and reading never writes.
@Suite struct AdminEdgeTests {
    @Test func readingAndMaintenanceCommandsOnAMissingJournalCreateNothing() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        for args in [["snapshot"], ["compact"], ["verify"], ["stats"], ["status", "j"], ["jobs"], ["replay", "j"], ["export"]] {
            let out = try cli.run(args)
            #expect(out.status != 0, "\(args)")
            #expect(out.stderr.contains("no journal at \(cli.journal)"), "\(args): \(out.stderr)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: cli.dir.path)
        #expect(left.isEmpty, "files created: \(left)")
    }

    @Test func compactKeepsOwnerGroupAndMode() throws {
        guard getuid() == 0 else { return }  // changing a file's owner needs root (CI runs as root)
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: sampleLines)
        #expect(chown(cli.journal, 65534, 65534) == 0)
        #expect(chmod(cli.journal, 0o600) == 0)
        try cli.ok(["compact", "--drop-superseded-heartbeats"])
        var st = stat()
        #expect(stat(cli.journal, &st) == 0)
        #expect(st.st_uid == 65534 && st.st_gid == 65534)
        #expect(st.st_mode & 0o7777 == 0o600)
    }

    @Test func compactThroughASymlinkCompactsTheTargetAndKeepsTheLink() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: sampleLines)
        let link = cli.dir.file("link.journal")
        #expect(symlink(cli.journal, link) == 0)
        let out = try cli.run(["compact", "--drop-superseded-heartbeats"], journal: link)
        #expect(out.status == 0, "\(out.stderr)")
        var st = stat()
        #expect(lstat(link, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, "the link is still a link")
        #expect(try cli.eventCount() == 10, "the target lost its two superseded heartbeats")
        // With another opener on the target, compacting through the link sees it.
        let port = HTTPProbe.freePort()
        let holder = try ChildProcess(builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port)])
        defer { holder.kill9() }
        #expect(HTTPProbe.poll(port: port, "/healthz") != nil)
        let refused = try cli.run(["compact"], journal: link)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("journal \(cli.journal) is open in another process"), "\(refused.stderr)")
    }

    @Test func readingCommandsWorkOnAnEvidenceCopyThisUserCannotWrite() throws {
        // As another user, in a directory and on files owned by root: no lock file can be made.
        guard getuid() == 0, access("/usr/bin/setpriv", X_OK) == 0 else { return }
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["ingest", "-"], stdin: sampleLines)
        let evidence = cli.dir.file("evidence")
        #expect(mkdir(evidence, 0o755) == 0)
        let copy = evidence + "/copy.journal"
        #expect(FileManager.default.fileExists(atPath: cli.journal))
        try FileManager.default.copyItem(atPath: cli.journal, toPath: copy)
        #expect(chmod(copy, 0o644) == 0)
        #expect(chmod(cli.dir.path, 0o755) == 0)
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", builtExecutable("logbook"), "--journal", copy]
        for args in [["status", "scan-3", "--json"], ["jobs", "--json"], ["replay", "scan-3"], ["verify"], ["export"]] {
            let out = try run("/usr/bin/setpriv", asNobody + args)
            #expect(out.status == 0, "\(args): \(out.stderr)")
            #expect(out.stderr.contains("without LMDB's lock file"), "\(args): \(out.stderr)")
        }
        #expect(try run("/usr/bin/setpriv", asNobody + ["status", "scan-3", "--json"]).stdout.contains(#""status":"cancelled""#))
        #expect(try FileManager.default.contentsOfDirectory(atPath: evidence) == ["copy.journal"])
    }
}
