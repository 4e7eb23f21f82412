import ConcurrencyKit
import Foundation
import Journal
import Logbook
import Logging
@testable import LogbookPostgres
import PostgresNIO
import TestSupport
import Testing

/// The edges of a commit (docs/scale-out.md, "What a commit answers"): a transaction PostgreSQL
/// rolled back is a known failure, not an unknown outcome; and the commit does not inherit server
/// settings that would break it (REPEATABLE READ by default, `synchronous_commit = off`).
@Suite(.enabled(if: PostgresServer.available), .serialized, .timeLimit(.minutes(10))) struct CommitEdgeTests {
    static let logger = Logger(label: "test")

    func withLog(
        settings: [String] = [], _ body: (PostgresLog, PostgresClient, PostgresServer) async throws -> Void
    ) async throws {
        try await withPostgresLog(settings: settings, body)
    }

    static func count(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int64 {
        var n: Int64 = 0
        for try await value in try await client.query(query, logger: logger).decode(Int64.self) { n = value }
        return n
    }

    /// Waits until `query` counts at least one row (a state another session is in, not a time).
    static func waitFor(_ client: PostgresClient, _ query: PostgresQuery) async throws {
        while try await count(client, query) == 0 { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func aCommitThePrimaryRolledBackIsAFinalErrorNotAnUnknownOutcome() async throws {
        try await withLog { log, client, _ in
            // The commit function gone: every commit fails inside its transaction, which PostgreSQL rolls back.
            _ = try await client.query("DROP FUNCTION logbook_events_commit", logger: Self.logger)
            do throws(SharedLogError) {
                _ = try await log.commit([[PostgresLogTests.event("a")]], retry: false)
                Issue.record("a commit without its function was stored")
            } catch {
                guard case .failed(let why) = error else {
                    Issue.record("a rolled-back commit answered \(error), not a final failure")
                    return
                }
                #expect(why.contains("42883"), "undefined function: \(why)")
            }
            #expect(try await Self.count(client, "SELECT count(*) FROM logbook_events") == 0)
        }
    }

    /// Under a server default of REPEATABLE READ, a commit that waited for another's lock would
    /// read its job's version from a snapshot taken before the lock, and collide with the version
    /// the other just stored. The commit runs READ COMMITTED whatever the default.
    @Test func aCommitWaitingForAnotherReadsTheVersionItCommittedEvenUnderRepeatableRead() async throws {
        try await withLog(settings: ["default_transaction_isolation = 'repeatable read'"]) { log, client, _ in
            #expect(try await Self.count(client, "SELECT count(*) FROM pg_settings WHERE name = 'default_transaction_isolation' AND setting = 'repeatable read'") == 1)
            let release = OneShot<Void>()
            // Another writer: stores version 1 of job a and holds a's lock, uncommitted.
            let holder = Task {
                try await client.withConnection { connection in
                    _ = try await connection.query("BEGIN ISOLATION LEVEL READ COMMITTED", logger: Self.logger)
                    _ = try await log.commit(.init(group: [[PostgresLogTests.event("a")]], retry: false, placeAfter: nil, origin: ""), on: connection)
                    await release.value
                    _ = try await connection.query("COMMIT", logger: Self.logger)
                }
            }
            try await Self.waitFor(client, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            let waiting = Task { try await log.commit([[PostgresLogTests.event("a")]], retry: false) }
            // The commit is inside its transaction, waiting for a's lock: its statement has begun.
            try await Self.waitFor(client, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            release.fulfil(())
            try await holder.value
            let results = try await waiting.value
            #expect(throws: Never.self) { try results[0].get() }
            let rows = try await log.read(after: nil, limit: 10)
            #expect(rows.map(\.version) == [1, 2])
            // Its one-statement form was refused before it did anything (the function checks the
            // isolation first): from then on this log opens its transactions itself.
            let oneStatement = log.singleStatementCommits.load(ordering: .relaxed)
            #expect(!oneStatement)
        }
    }

    /// Under the usual default (READ COMMITTED) a commit is one statement, its own implicit
    /// transaction: one round trip per group, and the log keeps it so.
    @Test func aCommitIsOneStatementUnderTheUsualDefault() async throws {
        try await withLog { log, client, _ in
            _ = try await client.query("SELECT pg_stat_reset()", logger: Self.logger)
            for job in ["a", "b", "c"] { _ = try await log.commit([[PostgresLogTests.event(job)]], retry: false) }
            let oneStatement = log.singleStatementCommits.load(ordering: .relaxed)
            #expect(oneStatement)
            // Three groups stored, and no transaction of this database rolled back on the way.
            #expect(try await Self.count(client, "SELECT count(*) FROM logbook_events") == 3)
            #expect(try await Self.count(client, "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()") == 0)
        }
    }

    /// A placed commit's answer is applied by the follower as committed, so it must not come before
    /// the commit is durable: here not before the synchronous standby (required and missing)
    /// acknowledged it, even when the answer is larger than PostgreSQL's send buffer (8 kB), which
    /// it sends as it fills: another writer's 32 rows of 1 kB come with it, as rows between the
    /// cursor and the commit (docs/scale-out.md, "When the node trusts the answer").
    @Test func aPlacedCommitAnswersOnlyAfterItsCommit() async throws {
        try await withLog(settings: ["synchronous_commit = local", "synchronous_standby_names = '*'"]) { log, client, server in
            _ = try await client.query(
                """
                INSERT INTO logbook_events (job, version, type, record, event_id)
                SELECT convert_to('other', 'UTF8'), v, 1, convert_to(repeat('x', 1024), 'UTF8'), gen_random_uuid()
                FROM generate_series(1, 32) v
                """, logger: Self.logger)
            let done = OneShot<Void>()
            let commit = Task {
                defer { done.fulfil(()) }
                return try await log.commit([[PostgresLogTests.event("a")]], retry: false, placingAfter: .start, origin: "n")
            }
            try await Self.waitFor(client, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
            // Committed locally, not yet acknowledged by the standby. The pause only gives an answer
            // sent too early the time to arrive; a right one never needs it.
            try await Task.sleep(for: .milliseconds(200))
            #expect(done.current == nil, "the commit answered before its transaction was acknowledged")
            try server.sql("ALTER SYSTEM SET synchronous_standby_names = ''")
            try server.sql("SELECT pg_reload_conf()")
            let answer = try await commit.value
            #expect(answer.placed?.count == 33)
        }
    }

    /// Under `synchronous_commit = off` an acknowledged event could be lost in a crash of
    /// PostgreSQL. With a synchronous standby required and none connected, a commit that runs at
    /// least `on` waits for it (wait event SyncRep); one that inherited `off` returns at once.
    @Test func aCommitNeverRunsWithSynchronousCommitOff() async throws {
        try await withLog(settings: ["synchronous_commit = off", "synchronous_standby_names = '*'"]) { log, client, server in
            let done = OneShot<Void>()
            let commit = Task {
                defer { done.fulfil(()) }
                return try await log.commit([[PostgresLogTests.event("a")]], retry: false)
            }
            var sawWait = false
            while !sawWait, done.current == nil {
                sawWait = try await Self.count(client, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") > 0
                if !sawWait { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(sawWait, "the commit was acknowledged without waiting for the synchronous standby")
            try server.sql("ALTER SYSTEM SET synchronous_standby_names = ''")
            try server.sql("SELECT pg_reload_conf()")
            let results = try await commit.value
            #expect(throws: Never.self) { try results[0].get() }
        }
    }
}
