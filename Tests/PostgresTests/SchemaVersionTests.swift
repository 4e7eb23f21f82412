import Foundation
import Journal
import Logbook
import Logging
@testable import LogbookPostgres
import PostgresNIO
import Synchronization
import TestSupport
import Testing

/// The shared log's schema is versioned (docs/scale-out.md, "Schema versions"): created or migrated
/// once, never rewritten at each start, and a schema newer than this build is refused, not
/// overwritten, so old nodes stop during a rolling upgrade.
@Suite(.enabled(if: PostgresServer.available), .serialized) struct SchemaVersionTests {
    static let logger = Logger(label: "test")

    static func text(_ client: PostgresClient, _ query: PostgresQuery) async throws -> String? {
        var value: String?
        for try await v in try await client.query(query, logger: logger).decode(String?.self) { value = v }
        return value
    }

    /// The commit function's row version: it changes whenever the function is replaced.
    static func functionVersion(_ client: PostgresClient) async throws -> String? {
        try await text(client, "SELECT xmin::text FROM pg_proc WHERE proname = 'logbook_events_commit'")
    }

    static func storedVersion(_ client: PostgresClient) async throws -> String? {
        try await text(client, "SELECT version::text FROM logbook_events_schema")
    }

    /// Another process starting on the same table (a node, a CLI command).
    static func anotherLog(_ client: PostgresClient) throws -> PostgresLog {
        try PostgresLog(client: client, name: "test", answerLimit: .seconds(300))
    }

    @Test func aSecondStartChangesNothing() async throws {
        try await withPostgresLog { _, client, _ in
            #expect(try await Self.storedVersion(client) == String(PostgresLog.schemaVersion))
            let before = try await Self.functionVersion(client)
            try await Self.anotherLog(client).createSchema()
            #expect(try await Self.functionVersion(client) == before, "the commit function was rewritten")
        }
    }

    @Test func aNewerSchemaIsRefusedAndLeftAsItIs() async throws {
        try await withPostgresLog { _, client, _ in
            _ = try await client.query("UPDATE logbook_events_schema SET version = 99", logger: Self.logger)
            let before = try await Self.functionVersion(client)
            await #expect {
                try await Self.anotherLog(client).createSchema()
            } throws: { error in
                guard case SharedLogError.incompatible(let why) = error else { return false }
                return why.contains("version 99") && why.contains("upgrade this node")
            }
            #expect(try await Self.functionVersion(client) == before)
            #expect(try await Self.storedVersion(client) == "99")
        }
    }

    /// A table made before versions were kept (no version table, the first commit function) is
    /// version 1: migrated once, its rows kept.
    @Test func aTableFromBeforeVersionsIsMigratedKeepingItsRows() async throws {
        try await withPostgresLog { log, client, _ in
            _ = try await log.commit([[PostgresLogTests.event("a")]], retry: false)
            let firstFunction = PostgresLog.commitFunction("logbook_events").replacingOccurrences(
                of: "PERFORM set_config('synchronous_commit', 'on', true);", with: "NULL;")
            _ = try await client.query(PostgresQuery(unsafeSQL: firstFunction), logger: Self.logger)
            _ = try await client.query("DROP TABLE logbook_events_schema", logger: Self.logger)
            let other = try Self.anotherLog(client)
            try await other.createSchema()
            #expect(try await Self.storedVersion(client) == String(PostgresLog.schemaVersion))
            let source = try await Self.text(client, "SELECT prosrc FROM pg_proc WHERE proname = 'logbook_events_commit'") ?? ""
            #expect(source.contains("set_config('synchronous_commit', 'on', true)"))
            #expect(try await other.read(after: nil, limit: 10).count == 1)
        }
    }

    /// The commit function's signature in versions 4 and 5 (returning what that version did).
    static let oldSignatures = [
        4: """
            p_keys bigint[], p_ends int[], p_job bytea[], p_expected bigint[], p_type smallint[], p_record bytea[],
            p_id uuid[], p_retry boolean)
            RETURNS TABLE (batch int, job bytea, expected bigint, actual bigint) LANGUAGE sql AS 'SELECT 1, NULL::bytea, 0::bigint, 0::bigint'
            """,
        5: """
            p_keys bigint[], p_ends int[], p_job bytea[], p_expected bigint[], p_type smallint[], p_record bytea[],
            p_id uuid[], p_retry boolean, p_after_tx xid8, p_after_position bigint, p_origin text)
            RETURNS TABLE (batch int, job bytea, expected bigint, actual bigint, placed_tx bigint, placed_positions bigint[],
                placed_versions bigint[], placed_system text, placed_timeline text)
            LANGUAGE sql AS 'SELECT 1, NULL::bytea, 0::bigint, 0::bigint, NULL::bigint, NULL::bigint[], NULL::bigint[], NULL, NULL'
            """,
    ]

    /// Versions 4 to 5, and 5 to 6, each add a commit function with a new signature beside the old
    /// one, which is kept: during a rolling upgrade the nodes still on the old version go on calling
    /// theirs.
    @Test(arguments: [4, 5]) func anOldVersionIsMigratedKeepingItsFunctionForOldNodes(version: Int) async throws {
        try await withPostgresLog { log, client, _ in
            let old = try #require(Self.oldSignatures[version])
            _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE FUNCTION logbook_events_commit(\(old)"), logger: Self.logger)
            _ = try await client.query(PostgresQuery(unsafeSQL: "UPDATE logbook_events_schema SET version = \(version)"), logger: Self.logger)
            let other = try Self.anotherLog(client)
            try await other.createSchema()
            #expect(try await Self.storedVersion(client) == String(PostgresLog.schemaVersion))
            #expect(try await Self.text(client, "SELECT count(*)::text FROM pg_proc WHERE proname = 'logbook_events_commit'") == "2")
            let answer = try await other.commit([[PostgresLogTests.event("a")]], retry: false, placingAfter: nil, origin: "n")
            #expect(answer.placed?.count == 1)
        }
    }

    /// Version 6's function has the same signature as version 7's: migrating replaces it in place
    /// (nodes still on version 6 call the new one), and its statements are then planned once per
    /// connection.
    @Test func version6IsMigratedToStatementsPlannedOnce() async throws {
        try await withPostgresLog { log, client, _ in
            let config = "SELECT coalesce(array_to_string(proconfig, ','), '') FROM pg_proc WHERE proname = 'logbook_events_commit'"
            #expect(try await Self.text(client, PostgresQuery(unsafeSQL: config))?.contains("plan_cache_mode=force_generic_plan") == true)
            // Version 6 as it was: the function without the setting.
            let signature = "logbook_events_commit(bigint[], int[], bytea[], bigint[], smallint[], bytea[], uuid[], boolean, xid8, bigint, text, int)"
            _ = try await client.query(PostgresQuery(unsafeSQL: "ALTER FUNCTION \(signature) RESET plan_cache_mode"), logger: Self.logger)
            _ = try await client.query("UPDATE logbook_events_schema SET version = 6", logger: Self.logger)
            #expect(try await Self.text(client, PostgresQuery(unsafeSQL: config))?.contains("plan_cache_mode") == false)
            let other = try Self.anotherLog(client)
            try await other.createSchema()
            #expect(try await Self.storedVersion(client) == "7")
            #expect(try await Self.text(client, "SELECT count(*)::text FROM pg_proc WHERE proname = 'logbook_events_commit'") == "1")
            #expect(try await Self.text(client, PostgresQuery(unsafeSQL: config))?.contains("plan_cache_mode=force_generic_plan") == true)
            let answer = try await other.commit([[PostgresLogTests.event("a")]], retry: false, placingAfter: nil, origin: "n")
            #expect(answer.placed?.count == 1)
        }
    }

    /// A node on a schema newer than it knows stops following and refuses appends, naming why.
    @Test func aNodeOnANewerSchemaStopsWithTheReason() async throws {
        try await withPostgresLog { _, client, _ in
            _ = try await client.query("UPDATE logbook_events_schema SET version = 99", logger: Self.logger)
            let dir = TemporaryDirectory("schema")
            defer { dir.cleanup() }
            let warnings = Mutex<[String]>([])
            var options = Logbook.Options()
            options.durability = .noSync
            options.sharedLog = try Self.anotherLog(client)
            options.warn = { w in warnings.withLock { $0.append(w) } }
            let node = try Logbook.open(at: dir.file("node.journal"), options: options)
            defer { node.close() }
            #expect(await eventually { node.maintenance.followerStatus()?.stopped == true })
            #expect(node.maintenance.followerStatus()?.lastError?.contains("version 99") == true)
            #expect(warnings.withLock { $0.contains { $0.contains("upgrade this node") } })
            await #expect(throws: JournalError.self) { try await node.append(Event(job: "a", type: .created)) }
        }
    }
}
