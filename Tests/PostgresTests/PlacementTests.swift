import ConcurrencyKit
import Foundation
import Journal
import Logbook
import Logging
@testable import LogbookPostgres
import PostgresNIO
import Synchronization
import TestSupport
import Testing

/// A commit placed in the follow order (docs/scale-out.md, "Own rows, placed"): the committing node
/// applies its own rows without reading them back, but only when nothing lies, or can still appear,
/// between its follower's cursor and them. One test per rule of the table there.
@Suite(.enabled(if: PostgresServer.available), .serialized) struct PlacementTests {
    static let logger = Logger(label: "test")
    static let start = ReplicaCursor.start

    static func commit(_ log: PostgresLog, _ jobs: [String], after: ReplicaCursor, retry: Bool = false) async throws -> SharedLogCommit {
        try await log.commit([jobs.map { PostgresLogTests.event($0) }], retry: retry, placingAfter: after, origin: "test")
    }

    static func same(_ placed: [SharedLogRow], _ read: [SharedLogRow]) -> Bool {
        placed.count == read.count
            && zip(placed, read).allSatisfy { $0.cursor == $1.cursor && $0.version == $1.version && $0.id == $1.id && $0.record == $1.record }
    }

    /// Row 1: nothing before it, nothing running older: placed, exactly as a read returns it.
    @Test func aCommitRightAfterTheCursorIsPlacedAsAReadReturnsIt() async throws {
        try await withPostgresLog { log, _, _ in
            let first = try await Self.commit(log, ["a", "b", "a"], after: Self.start)
            let placed = try #require(first.placed, "an empty log: the first commit comes right after the start")
            #expect(Self.same(placed, try await log.read(after: nil, limit: 100)))
            #expect(placed.map(\.version) == [1, 1, 2])
            let second = try await Self.commit(log, ["a"], after: placed.last!.cursor)
            let next = try #require(second.placed)
            #expect(Self.same(next, try await log.read(after: placed.last!.cursor, limit: 100)))
            #expect(next.map(\.version) == [3])
        }
    }

    /// Row 2: rows the caller has not read lie between its cursor and the commit: placed, with them,
    /// exactly as a read after the cursor returns them all.
    @Test func aCommitAfterUnreadRowsIsPlacedWithThem() async throws {
        try await withPostgresLog { log, _, _ in
            _ = try await log.commit([["a", "b"].map { PostgresLogTests.event($0) }], retry: false, placingAfter: nil, origin: "another")
            let second = try await Self.commit(log, ["b", "c"], after: Self.start)
            let placed = try #require(second.placed, "the other node's rows come with the answer")
            #expect(placed.count == 4)
            #expect(Self.same(placed, try await log.read(after: nil, limit: 10)))
            #expect(placed.map { PostgresLogTests.job($0) } == ["a", "b", "b", "c"] && placed.map(\.version) == [1, 1, 2, 1])
        }
    }

    /// Row 3 (the limit): more rows between the cursor and the commit than an answer brings: not placed.
    @Test func aCommitAfterMoreUnreadRowsThanTheLimitIsNotPlaced() async throws {
        try await withPostgresLog { log, _, _ in
            let many = (0...PostgresLog.placedRowsLimit).map { PostgresLogTests.event("job-\($0 % 7)") }
            _ = try await log.commit([many], retry: false, placingAfter: nil, origin: "another")
            let second = try await Self.commit(log, ["a"], after: Self.start)
            #expect(second.placed == nil, "\(many.count) rows lie between: the follower reads them")
            let cursor = try await log.read(after: nil, limit: PostgresLog.placedRowsLimit).last!.cursor
            let third = try await Self.commit(log, ["a"], after: cursor)
            #expect(third.placed?.count == 3, "two rows left between (the last of the many, and the second commit's), and this one")
        }
    }

    /// Row 4 (one commit order): a commit that begins while another node's is in flight waits for it
    /// (the order lock, before its first write), so it holds the younger xid, finds the other ended,
    /// and is placed with its rows. Without the lock it would not wait, and would not be placed.
    @Test func aCommitWaitsForOneInFlightAndIsPlacedAfterIt() async throws {
        try await withPostgresLog { log, client, _ in
            let first = try #require(try await Self.commit(log, ["a"], after: Self.start).placed)
            try await client.withConnection { held in
                try await PostgresLog.run(held, "BEGIN", Self.logger)
                let call = PostgresLog.CommitCall(group: [[PostgresLogTests.event("b")]], retry: false, placeAfter: nil, origin: "another")
                _ = try await log.commit(call, on: held)  // stored in a transaction still open: it holds the order lock
                let second = Task { try await Self.commit(log, ["c"], after: first.last!.cursor) }
                #expect(await eventually {
                    (try? await Self.count(client, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) == 1
                }, "the second commit waits for the order lock")
                try await PostgresLog.run(held, "COMMIT", Self.logger)
                let placed = try #require(try await second.value.placed, "the held commit ended before it began")
                #expect(placed.map { PostgresLogTests.job($0) } == ["b", "c"])
                #expect(Self.same(placed, try await log.read(after: first.last!.cursor, limit: 10)))
            }
        }
    }

    static func count(_ client: PostgresClient, _ sql: String) async throws -> Int64 {
        var n: Int64 = -1
        for try await c in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64.self) { n = c }
        return n
    }

    /// Row 5: an older transaction still running may yet commit rows before this one: not placed.
    @Test func aCommitWhileAnOlderTransactionRunsIsNotPlaced() async throws {
        try await withPostgresLog { log, client, _ in
            let first = try #require(try await Self.commit(log, ["a"], after: Self.start).placed)
            try await client.withConnection { older in
                _ = try await older.query("BEGIN", logger: Self.logger)
                for try await _ in try await older.query("SELECT pg_current_xact_id()", logger: Self.logger) {}
                let second = try await Self.commit(log, ["b"], after: first.last!.cursor)
                #expect(second.placed == nil, "an older xid is still running")
                _ = try await older.query("ROLLBACK", logger: Self.logger)
            }
            // Once it ended, the next commit is placed again after what a read returns.
            let read = try await log.read(after: first.last!.cursor, limit: 10)
            let third = try await Self.commit(log, ["c"], after: read.last!.cursor)
            #expect(third.placed != nil)
        }
    }

    /// Row 6: a transaction that has written nothing (no xid: a reader, an idle BEGIN) holds nothing
    /// back; once it writes, its xid is older than any later commit's, which it does hold back.
    @Test func aTransactionWithoutAnXidDoesNotHoldACommitBack() async throws {
        try await withPostgresLog { log, client, _ in
            let first = try #require(try await Self.commit(log, ["a"], after: Self.start).placed)
            try await client.withConnection { reader in
                _ = try await reader.query("BEGIN", logger: Self.logger)
                for try await _ in try await reader.query("SELECT count(*) FROM logbook_events", logger: Self.logger) {}
                let second = try await Self.commit(log, ["b"], after: first.last!.cursor)
                let placed = try #require(second.placed, "a transaction without an xid holds nothing back")
                for try await _ in try await reader.query("SELECT pg_current_xact_id()", logger: Self.logger) {}
                let third = try await Self.commit(log, ["c"], after: placed.last!.cursor)
                #expect(third.placed == nil, "now it holds an xid older than the third commit's")
                _ = try await reader.query("ROLLBACK", logger: Self.logger)
            }
        }
    }

    /// Row 7: a retry (which skips what an earlier attempt stored) and a conflict are never placed.
    @Test func aRetryAndARefusedBatchAreNotPlaced() async throws {
        try await withPostgresLog { log, _, _ in
            let retried = try await Self.commit(log, ["a"], after: Self.start, retry: true)
            #expect(retried.placed == nil)
            let cursor = try await log.read(after: nil, limit: 10).last!.cursor
            let conflict = try await log.commit(
                [[PostgresLogTests.event("a", expect: 7)], [PostgresLogTests.event("b")]], retry: false, placingAfter: cursor, origin: "t")
            #expect(conflict.placed == nil)
            #expect((try? conflict.results[0].get()) == nil && (try? conflict.results[1].get()) != nil)
        }
    }

    /// Row 8: a commit's notification names its origin; a listener skips its own and hears others'.
    /// The streams keep only the newest wake-up (a hint: the follower reads everything anyway), so
    /// each commit waits until the listener that skips nothing heard it, and each other's commit
    /// until the skipping one did: no two wake-ups are ever pending at once to be merged.
    @Test func aListenerSkipsItsOwnCommitsNotifications() async throws {
        try await withPostgresLog { log, _, _ in
            let (heard, all) = (Shared(0), Shared(0))
            let listening = [
                Task { for await _ in log.commitNotifications(except: "me") { heard.update { $0 += 1 } } },
                Task { for await _ in log.commitNotifications() { all.update { $0 += 1 } } },
            ]
            defer { for task in listening { task.cancel() } }
            // Each listener yields once when it starts listening.
            #expect(await eventually { heard.value >= 1 && all.value >= 1 })
            var (expectedAll, expectedHeard) = (1, 1)
            for origin in ["me", "another", "me", "me", "another"] {
                _ = try await log.commit([[PostgresLogTests.event(origin)]], retry: false, placingAfter: nil, origin: origin)
                expectedAll += 1
                if origin != "me" { expectedHeard += 1 }
                let (a, h) = (expectedAll, expectedHeard)
                #expect(await eventually { all.value >= a && heard.value >= h })
            }
            #expect(all.value == 6)
            #expect(heard.value == 3, "its own three commits were not heard")
        }
    }

    /// Row 8, with the transaction: a notice names the committing transaction, which a placed
    /// commit's rows tell (`ReplicaCursor.tx`); a listener hears every other node's, none merged.
    @Test func aNoticeNamesTheCommittingTransaction() async throws {
        try await withPostgresLog { log, _, _ in
            let heard = Shared<[Int64?]>([])
            let listening = Task { for await tx in log.commitNotices(except: "me") { heard.update { $0.append(tx) } } }
            defer { listening.cancel() }
            #expect(await eventually { heard.value == [nil] }, "once when it starts listening: read to find out")
            var cursor = Self.start
            var expected: [Int64?] = [nil]
            for origin in ["another", "me", "another", "another"] {
                let placed = try #require(try await log.commit(
                    [[PostgresLogTests.event(origin)]], retry: false, placingAfter: cursor, origin: origin).placed)
                cursor = placed.last!.cursor
                if origin != "me" { expected.append(cursor.tx) }
            }
            let all = expected
            #expect(await eventually { heard.value == all }, "\(heard.value) against \(all)")
        }
    }

    /// A node applies its own placed rows without reading them back: one node's appends cost no
    /// read each, and a new replica reading everything ends identical.
    @Test func aNodesOwnAppendsAreAppliedWithoutReadingThemBack() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = TemporaryDirectory("placed")
        defer { dir.cleanup() }
        let log = try PostgresLog(url: server.url)
        let counted = CountingReads(log: log)
        var options = Logbook.Options()
        options.sharedLog = counted
        options.foreignAppendPollInterval = nil
        options.sharedLogPollInterval = .seconds(3600)  // reads only when something asks for one
        let path = dir.file("node.journal")
        let node = try Logbook.open(at: path, options: options)
        try await node.catchUp()
        let before = counted.reads
        for i in 0..<30 {
            let outcome = try await node.append([Event(job: "job-\(i % 3)", type: .heartbeat, attempt: 1)])
            #expect(outcome.state.version == UInt64(i / 3 + 1), "read-your-writes")
        }
        #expect(counted.reads - before < 10, "\(counted.reads - before) reads for 30 appends")
        // Each append was a group of its own; a commit not placed is what makes the follower read.
        let status = try #require(node.maintenance.followerStatus())
        #expect(status.commits == 30)
        #expect(status.placedCommits >= 30 - (counted.reads - before) && status.placedCommits > 20, "\(status.placedCommits) placed")
        node.close()
        // A new replica reads everything from the log: the same journal, seq for seq.
        let other = try Logbook.open(at: dir.file("other.journal"), options: { var o = Logbook.Options(); o.sharedLog = log; return o }())
        try await other.catchUp()
        other.close()
        await log.shutdown()
        #expect(try SharedLogNodeTests.export(path) == SharedLogNodeTests.export(dir.file("other.journal")))
    }

    /// A node's commit brings the rows other nodes committed before it: applied without a read (its
    /// reads find nothing from then on), and the replica ends identical to a new one that read
    /// everything. Without the rows in the answer the commit is not placed, the append waits for a
    /// read that never brings them, and the deadline fails the test.
    @Test func aNodesCommitBringsOtherNodesRowsWithoutARead() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = TemporaryDirectory("placed-others")
        defer { dir.cleanup() }
        let log = try PostgresLog(url: server.url)
        let counted = CountingReads(log: log, hearsNothing: true)
        func options(_ shared: any SharedLog) -> Logbook.Options {
            var o = Logbook.Options()
            o.sharedLog = shared
            o.foreignAppendPollInterval = nil
            o.sharedLogPollInterval = .seconds(3600)  // reads only when something asks for one
            return o
        }
        let (path, otherPath) = (dir.file("node.journal"), dir.file("other.journal"))
        let node = try Logbook.open(at: path, options: options(counted))
        let other = try Logbook.open(at: otherPath, options: options(log))
        try await node.catchUp()
        counted.blind.withLock { $0 = true }
        for i in 0..<12 { _ = try await other.append([Event(job: "job-\(i % 3)", type: .heartbeat, attempt: 1)]) }
        let outcome = try await withDeadline(.seconds(patientSeconds), timeout: CancellationError()) {
            try await node.append([Event(job: "job-0", type: .heartbeat, attempt: 1)])
        }
        #expect(outcome.state.version == 5, "the other node's four events of job-0 came first")
        #expect(node.state(of: "job-2")?.version == 4)
        node.close()
        other.close()
        let fresh = try Logbook.open(at: dir.file("fresh.journal"), options: options(log))
        try await fresh.catchUp()
        fresh.close()
        await log.shutdown()
        #expect(try SharedLogNodeTests.export(path) == SharedLogNodeTests.export(dir.file("fresh.journal")))
    }
}

/// A shared log that counts the follower's reads (and, with `hearsNothing`, tells it of no commit).
final class CountingReads: SharedLog {
    let log: PostgresLog
    let hearsNothing: Bool
    /// Set: every read finds nothing (as while an older transaction holds xmin back).
    let blind = Mutex(false)
    private let count = Mutex(0)
    init(log: PostgresLog, hearsNothing: Bool = false) { (self.log, self.hearsNothing) = (log, hearsNothing) }
    var reads: Int { count.withLock { $0 } }
    var name: String { log.name }
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        try await log.commit(group, retry: retry)
    }
    func commit(_ group: [[SharedLogEntry]], retry: Bool, placingAfter after: ReplicaCursor?, origin: String)
        async throws(SharedLogError) -> SharedLogCommit
    {
        try await log.commit(group, retry: retry, placingAfter: after, origin: origin)
    }
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        count.withLock { $0 += 1 }
        if blind.withLock({ $0 }) { return [] }
        return try await log.read(after: cursor, limit: limit)
    }
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? { try await log.eventID(at: cursor) }
    func commitNotifications() -> AsyncStream<Void> { log.commitNotifications() }
    func commitNotifications(except origin: String) -> AsyncStream<Void> { log.commitNotifications(except: origin) }
    func commitNotices(except origin: String) -> AsyncStream<Int64?> {
        hearsNothing ? AsyncStream { _ in } : log.commitNotices(except: origin)
    }
    func shutdown() async { await log.shutdown() }
}
