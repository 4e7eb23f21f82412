import Foundation
import Logbook
@testable import LogbookPostgres
import TestSupport
import Testing

/// A node on a cluster of two PostgreSQL members (a primary and a synchronous streaming standby),
/// given both URLs: when the primary crashes and the standby is promoted, the node finds the new
/// primary, retries what was in flight with the same event ids, and its follower resumes from its
/// (tx, position) cursor, which replicated physically. Nothing acknowledged is lost.
@Suite(.enabled(if: PostgresServer.available), .serialized) struct FailoverTests {
    @Test func aNodeFollowsThePromotedStandbyAndLosesNothingAcknowledged() async throws {
        let primary = try PostgresServer()
        defer { primary.stop() }
        let standby = try PostgresServer(standbyOf: primary)
        defer { standby.stop() }
        try primary.requireSynchronousStandby()
        let dir = TemporaryDirectory("failover")
        defer { dir.cleanup() }
        let log = try PostgresLog(url: primary.url + "," + standby.url)
        var options = Logbook.Options()
        options.sharedLog = log
        options.foreignAppendPollInterval = nil
        options.sharedLogRetryWindow = .seconds(300)  // a loaded test machine may promote slowly
        let node = try Logbook.open(at: dir.file("node.journal"), options: options)
        let members = log.topology.members
        #expect(members.count == 2 && members.allSatisfy { !$0.contains("postgres@") }, "\(members): named without the user")
        var acknowledged: [(job: String, version: UInt64)] = []
        for i in 0..<20 {
            let outcome = try await node.append(Event(job: "job-\(i % 4)", type: .heartbeat, data: #"{"i":\#(i)}"#))
            acknowledged.append(("job-\(i % 4)", outcome.state.version))
        }
        #expect(node.maintenance.followerStatus()?.topology == SharedLogTopology(members: members, primary: members[0]))
        // The primary dies; appends keep coming while the standby is promoted.
        primary.crash()
        let writer = Task {
            var acked: [(job: String, version: UInt64)] = []
            for i in 20..<40 {
                let outcome = try await node.append(Event(job: "job-\(i % 4)", type: .heartbeat, data: #"{"i":\#(i)}"#))
                acked.append(("job-\(i % 4)", outcome.state.version))
            }
            return acked
        }
        try await Task.sleep(for: .milliseconds(300))
        try standby.promote()
        acknowledged += try await value(of: writer, within: patientSeconds)
        try await node.catchUp()
        for (job, version) in acknowledged {
            #expect(node.state(of: job).map { $0.version >= version } == true, "\(job) v\(version)")
        }
        #expect(try node.maintenance.lastSeq() == 40, "each event once")
        // The node saw one failover, from the first member to the second, and says so.
        let topology = try #require(node.maintenance.followerStatus()?.topology)
        #expect(topology.primary == members[1] && topology.failovers == 1)
        #expect(topology.lastFailover.map { ($0.from, $0.to) } ?? ("", "") == (members[0], members[1]))
        node.close()
        await log.shutdown()
        let report = try Logbook.Maintenance.verify(at: dir.file("node.journal"))
        #expect(report.records == 40)
    }
}

/// A failover behind one address (a proxy, a DNS name, pgbouncer): here a socket directory whose
/// socket is a link, moved from the primary to the promoted standby. The node's log sees no second
/// member, so the cluster that answers each read must say it: a new timeline is a failover (the
/// follower then checks the log still holds its last event), another cluster is refused.
@Suite(.enabled(if: PostgresServer.available), .serialized) struct OneAddressFailoverTests {
    static func point(_ link: String, at server: PostgresServer) throws {
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: server.socketPath)
    }

    /// A primary with a synchronous standby behind one address (the link), and a log on that address.
    static func withClusterBehindOneAddress(
        _ body: (_ primary: PostgresServer, _ standby: PostgresServer, _ link: String, _ log: PostgresLog) async throws -> Void
    ) async throws {
        let primary = try PostgresServer()
        defer { primary.stop() }
        let standby = try PostgresServer(standbyOf: primary)
        defer { standby.stop() }
        try primary.requireSynchronousStandby()
        let address = TemporaryDirectory("address")
        defer { address.cleanup() }
        let link = address.file(".s.PGSQL.5432")
        try Self.point(link, at: primary)
        let log = try PostgresLog(url: "postgresql://postgres@/postgres?host=\(address.path)&connect_timeout=300")
        try await body(primary, standby, link, log)
    }

    @Test func aNewTimelineBehindOneAddressIsAFailoverAndAnotherClusterIsRefused() async throws {
        try await Self.withClusterBehindOneAddress { primary, standby, link, log in
            _ = try await log.commit([[PostgresLogTests.event("a")]], retry: false)
            let first = try await log.read(after: nil, limit: 10)
            #expect(first.count == 1 && log.topology.failovers == 0)

            primary.crash()
            try standby.promote()
            try Self.point(link, at: standby)
            // The pool's connections to the dead primary fail first; a read then reaches the new one.
            #expect(await eventually { (try? await log.read(after: nil, limit: 10))?.count == 1 })
            let topology = log.topology
            #expect(topology.failovers == 1)
            #expect(topology.lastFailover?.from.hasSuffix("timeline 00000001") == true, "\(String(describing: topology.lastFailover))")
            #expect(topology.lastFailover?.to.hasSuffix("timeline 00000002") == true)
            #expect(try await log.eventID(at: first[0].cursor) == first[0].id, "the synchronous standby kept the event")

            // Another cluster behind the same address (a restore elsewhere): refused, not followed.
            let other = try PostgresServer()
            defer { other.stop() }
            let otherLog = try PostgresLog(url: other.url)
            try await otherLog.createSchema()
            await otherLog.shutdown()
            standby.crash()
            try Self.point(link, at: other)
            let refused = await eventually {
                do throws(SharedLogError) {
                    _ = try await log.read(after: nil, limit: 10)
                    return false
                } catch {
                    if case .incompatible(let why) = error { return why.contains("another PostgreSQL cluster") }
                    return false
                }
            }
            #expect(refused)
            await log.shutdown()
        }
    }

    /// A commit that reaches the new timeline first is not placed in the follow order: it counts the
    /// failover, so the node's follower reads and checks what the new primary holds before it applies
    /// anything more (docs/scale-out.md, "Own rows, placed").
    @Test func aCommitOnANewTimelineBehindOneAddressIsNotPlaced() async throws {
        try await Self.withClusterBehindOneAddress { primary, standby, link, log in
            let first = try await log.commit([[PostgresLogTests.event("a")]], retry: false, placingAfter: nil, origin: "n")
            let placed = try #require(first.placed, "the first commit on an empty log is placed")

            primary.crash()
            try standby.promote()
            try Self.point(link, at: standby)
            // The pool's connections to the dead primary fail first; a commit then reaches the new one.
            let after = placed.last!.cursor
            var answer: SharedLogCommit?
            let deadline = ContinuousClock.now + .seconds(300)
            while answer == nil, ContinuousClock.now < deadline {
                answer = try? await log.commit([[PostgresLogTests.event("b")]], retry: false, placingAfter: after, origin: "n")
                if answer == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(answer?.placed == nil, "the new timeline is a failover: the follower reads before it applies")
            #expect(log.topology.failovers == 1)
            #expect(try await log.read(after: placed.last!.cursor, limit: 10).count == 1)
            await log.shutdown()
        }
    }
}
