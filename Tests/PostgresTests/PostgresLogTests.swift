import Foundation
import Journal
import Logbook
import Logging
@testable import LogbookPostgres
import PostgresNIO
import TestSupport
import Testing

/// The ordering core of the shared PostgreSQL log (docs/scale-out.md), against a throwaway
/// PostgreSQL 15. Skipped where Debian's binaries are missing (`make test` installs them).
@Suite(.enabled(if: PostgresServer.available), .serialized) struct PostgresLogTests {
    /// Starts a server and a client, runs `body` with a log on a fresh table, then stops both.
    func withLog(_ body: (PostgresLog, PostgresClient) async throws -> Void) async throws {
        try await withPostgresLog { log, client, _ in try await body(log, client) }
    }

    static let at = Timestamp(seconds: 1_780_272_000)

    static func event(_ job: String, expect: UInt64? = nil, id: EventID = .random(), data: String? = nil) -> SharedLogEntry {
        let event = Event(job: job, type: .heartbeat, at: at, attempt: 1, data: data)
        return SharedLogEntry(
            job: job, type: .heartbeat, record: Journal.encodeRecord(seq: 0, version: 0, appendedAt: at, event: event), id: id,
            expectedVersion: expect)
    }

    static func job(_ row: SharedLogRow) -> String {
        (try? row.record.withUnsafeBytes { try Journal.decodeRecord(seq: 0, bytes: $0) })?.event.job ?? "?"
    }

    @Test func expectedVersionsHoldPerBatchAndAConflictingBatchFailsAlone() async throws {
        try await withLog { log, _ in
            let first = try await log.commit([[Self.event("a", expect: 0), Self.event("a", expect: nil)]], retry: false)
            #expect(throws: Never.self) { try first[0].get() }
            let group = try await log.commit(
                [[Self.event("a", expect: 1)], [Self.event("b", expect: 0), Self.event("a", expect: 2)]], retry: false)
            #expect(throws: JournalError.versionConflict(job: "a", expected: 1, actual: 2)) { try group[0].get() }
            #expect(throws: Never.self, "the other batch of the group is stored") { try group[1].get() }
            let rows = try await log.read(after: nil, limit: 100)
            #expect(rows.map { Self.job($0) + "\($0.version)" } == ["a1", "a2", "b1", "a3"])
        }
    }

    /// A retry after a lost acknowledgement carries the same event ids: the batches already stored
    /// are answered as stored, the others are stored now, each exactly once. Without `retry` a
    /// repeated id is refused by the table (and the group rolls back whole).
    @Test func aRetriedGroupIsStoredExactlyOnce() async throws {
        try await withLog { log, _ in
            let stored = [Self.event("a", expect: 0), Self.event("b")]
            _ = try await log.commit([stored], retry: false)
            let fresh = [Self.event("c", expect: 0)]
            let retried = try await log.commit([stored, fresh], retry: true)
            #expect(retried.count == 2 && (try? retried[0].get()) != nil && (try? retried[1].get()) != nil)
            let rows = try await log.read(after: nil, limit: 100)
            #expect(rows.map { Self.job($0) + "\($0.version)" } == ["a1", "b1", "c1"], "a and b once, c stored by the retry")
            #expect(rows.map(\.id) == [stored[0].id, stored[1].id, fresh[0].id])
            var repeated = stored[1]  // no expectation: only the table's unique event id can refuse it
            repeated.job = "d"
            await #expect(throws: SharedLogError.self) { _ = try await log.commit([[repeated]], retry: false) }
            #expect(try await log.read(after: nil, limit: 100).count == 3, "the refused repeat rolled back whole")
        }
    }

    /// The late commit: a transaction that took its xid first commits after a later one. A plain
    /// position cursor passes it for ever (the negative control); the xmin-bounded cursor waits for
    /// it and then delivers both, in (tx, position) order.
    @Test func aLateCommitIsNeverSkippedBelowXminButAPlainPositionCursorSkipsIt() async throws {
        try await withLog { log, client in
            let logger = Logger(label: "test")
            let opened = Shared(false)
            let release = Shared(false)
            let late = Task {
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query(
                        "INSERT INTO logbook_events (job, version, type, record, event_id) VALUES (\(ByteBuffer(string: "late")), 1, 4, \(ByteBuffer(bytes: Self.event("late").record)), \(UUID()))",
                        logger: logger)
                    opened.set(true)
                    while !release.value { try await Task.sleep(for: .milliseconds(10)) }
                }
            }
            while !opened.value { try await Task.sleep(for: .milliseconds(10)) }
            _ = try await log.commit([[Self.event("early")]], retry: false)
            // Plain position cursor: sees the early row only, and moves past the late row's position.
            let plain = try await log.read(after: nil, limit: 100, belowXmin: false)
            #expect(plain.map { Self.job($0) } == ["early"])
            let plainCursor = try #require(plain.last).cursor
            // Bounded: nothing yet, since the late transaction holds xmin back.
            #expect(try await log.read(after: nil, limit: 100).isEmpty)
            release.set(true)
            try await late.value
            // The plain cursor never comes back for the late row: it is skipped.
            #expect(try await log.read(after: plainCursor, limit: 100, belowXmin: false).isEmpty, "the negative control skips")
            // The bounded cursor delivers both, the late transaction's row first (its xid is older).
            let bounded = try await log.read(after: nil, limit: 100)
            #expect(bounded.map { Self.job($0) } == ["late", "early"])
        }
    }

    /// Many tasks commit multi-job batches at once; read in follow order, every job's versions
    /// come strictly increasing and without gaps: xid order is version order, per job.
    @Test func concurrentMultiJobBatchesReadBackInVersionOrderForEveryJob() async throws {
        try await withLog { log, _ in
            let jobs = (0..<6).map { "job-\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<12 {
                    group.addTask {
                        for round in 0..<15 {
                            let picked = [jobs[(task + round) % 6], jobs[(task * 7 + round * 3 + 1) % 6]]
                            _ = try await log.commit([picked.map { Self.event($0) }], retry: false)
                        }
                    }
                }
                try await group.waitForAll()
            }
            var cursor: ReplicaCursor?
            var seen: [String: UInt64] = [:]
            var total = 0
            while true {
                let rows = try await log.read(after: cursor, limit: 50)
                guard let last = rows.last else { break }
                for row in rows {
                    let job = Self.job(row)
                    #expect(row.version == (seen[job] ?? 0) + 1, "job \(job) out of order")
                    seen[job] = row.version
                }
                total += rows.count
                cursor = last.cursor
            }
            #expect(total == 12 * 15 * 2)
        }
    }

    /// Two replicas follow one shared log written by many tasks at once: each applies what it reads
    /// (below xmin, in (tx, position) order) with its cursor; both end sound and identical, seqs
    /// included, and every job's versions are the shared log's.
    @Test func twoReplicasFollowingTheSharedLogEndIdentical() async throws {
        try await withLog { log, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for round in 0..<10 {
                            let jobs = ["scan-\((task + round) % 5)", "crawl-\(task % 3)"]
                            _ = try await log.commit([jobs.map { Self.event($0, data: #"{"round":\#(round)}"#) }], retry: false)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let dir = TemporaryDirectory("replicas")
            defer { dir.cleanup() }
            var exports: [String] = []
            for name in ["node-a", "node-b"] {
                let replica = try Journal.open(at: dir.file("\(name).journal"))
                defer { replica.close() }
                var cursor: ReplicaCursor?
                while true {
                    let rows = try await log.read(after: cursor, limit: name == "node-a" ? 7 : 50)  // different batch sizes
                    guard let last = rows.last else { break }
                    try await replica.applyReplicated(
                        rows.map { Journal.ReplicatedRecord(cursor: $0.cursor, version: $0.version, record: $0.record) }, from: log.name)
                    cursor = last.cursor
                }
                #expect(try replica.verify().records == 8 * 10 * 2)
                var text: [UInt8] = []
                try replica.exportJSONLines { text.append(contentsOf: $0) }
                exports.append(String(decoding: text, as: UTF8.self))
                var seqs: [UInt64] = []
                try replica.scan { e in seqs.append(e.seq); return true }
                #expect(seqs == Array(1...160))
            }
            #expect(exports[0] == exports[1], "both replicas hold the same events in the same order")
        }
    }

    /// A commit finds each job's current version from the end of its (job, version) index: one
    /// entry per job however long its history. The plan, measured with EXPLAIN ANALYZE on a job
    /// of 3,000 versions, reads no node's rows by the thousand (the grouped form it replaced read
    /// all 3,000, and commits slowed as histories grew).
    @Test func aJobsCurrentVersionIsReadFromTheEndOfItsIndexNotItsHistory() async throws {
        try await withLog { log, client in
            for _ in 0..<6 { _ = try await log.commit([(0..<500).map { _ in Self.event("long") }], retry: false) }
            _ = try await log.commit([[Self.event("short")]], retry: false)
            let logger = Logger(label: "test")
            _ = try await client.query(PostgresQuery(unsafeSQL: "ANALYZE \(log.table)"), logger: logger)
            let plan = try await client.query(
                PostgresQuery(unsafeSQL: """
                    EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
                    SELECT u.job, coalesce(c.v, 0) FROM unnest(ARRAY['long'::bytea, 'short'::bytea, 'new'::bytea]) AS u(job)
                    \(PostgresLog.currentVersion(log.table, of: "u.job"))
                    """), logger: logger)
            var lines: [String] = []
            for try await line in plan.decode(String.self) { lines.append(line) }
            let versions = try await client.query(
                PostgresQuery(unsafeSQL: """
                    SELECT coalesce(c.v, 0) FROM unnest(ARRAY['long'::bytea, 'short'::bytea, 'new'::bytea]) AS u(job)
                    \(PostgresLog.currentVersion(log.table, of: "u.job"))
                    """), logger: logger)
            var found: [Int64] = []
            for try await v in versions.decode(Int64.self) { found.append(v) }
            #expect(found == [3_000, 1, 0])
            let rowsRead = lines.compactMap { line in
                line.firstRange(of: "rows=").map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 }
            }
            #expect(!rowsRead.isEmpty, "\(lines)")
            #expect(rowsRead.allSatisfy { $0 <= 3 }, "no plan node reads a job's history: \(lines.joined(separator: "\n"))")
        }
    }
}

/// Starts a server whose defaults `settings` change (ALTER SYSTEM, reloaded before any client
/// connects) and a client, runs `body` with a log on a fresh table, then stops both.
func withPostgresLog(
    settings: [String] = [], _ body: (PostgresLog, PostgresClient, PostgresServer) async throws -> Void
) async throws {
    let server = try PostgresServer()
    defer { server.stop() }
    for setting in settings { try server.sql("ALTER SYSTEM SET \(setting)") }
    if !settings.isEmpty { try server.sql("SELECT pg_reload_conf()") }
    let client = PostgresClient(configuration: .init(
        unixSocketPath: server.socketPath, username: "postgres", password: nil, database: "postgres"))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        let log = try PostgresLog(client: client, name: "test", answerLimit: .seconds(300))
        try await log.createSchema()
        try await body(log, client, server)
    }
}
