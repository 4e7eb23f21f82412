import Foundation
import Logging
import PostgresNIO

/// The shared log on PostgreSQL (docs/scale-out.md): the ordering core of the scale-out design,
/// before it is wired into `Logbook`. One group of batches is one PostgreSQL transaction that takes
/// every job's advisory lock, in sorted order, before its first write, so that for every job xid
/// order equals version order; readers follow `(tx, position)` below the snapshot's xmin, so a
/// transaction that commits late is never skipped.
public final class PostgresLog: Sendable {
    /// One event to store: its job's bytes, type, encoded record, id (for idempotent retries) and
    /// the job's expected version, if any.
    public struct Pending: Sendable {
        public var job: [UInt8]
        public var type: Int16
        public var record: [UInt8]
        public var eventID: UUID
        public var expectedVersion: Int64?
        public init(job: [UInt8], type: Int16, record: [UInt8], eventID: UUID = UUID(), expectedVersion: Int64? = nil) {
            (self.job, self.type, self.record, self.eventID, self.expectedVersion) = (job, type, record, eventID, expectedVersion)
        }
    }

    /// Where a stored event sits: its job's version and its place in the follow order.
    public struct Stored: Sendable, Equatable {
        public var version: Int64
        public var position: Int64
    }

    public enum BatchError: Error, Sendable, Equatable {
        case versionConflict(job: [UInt8], expected: Int64, actual: Int64)
    }

    /// A follower's place: the last `(tx, position)` applied.
    public struct Cursor: Sendable, Equatable, Comparable {
        public var tx: Int64
        public var position: Int64
        public init(tx: Int64 = 0, position: Int64 = 0) { (self.tx, self.position) = (tx, position) }
        public static func < (a: Cursor, b: Cursor) -> Bool { (a.tx, a.position) < (b.tx, b.position) }
    }

    public struct Row: Sendable, Equatable {
        public var cursor: Cursor
        public var job: [UInt8]
        public var version: Int64
        public var record: [UInt8]
    }

    let client: PostgresClient
    let table: String
    let logger: Logger

    /// `table` is an SQL identifier chosen by the operator (letters, digits, underscores).
    public init(client: PostgresClient, table: String = "logbook_events", logger: Logger = Logger(label: "logbook.postgres")) {
        precondition(table.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "table must be a plain identifier")
        (self.client, self.table, self.logger) = (client, table, logger)
    }

    public func createSchema() async throws {
        try await client.query(PostgresQuery(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS \(table) (
                position bigint GENERATED ALWAYS AS IDENTITY,
                tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
                job bytea NOT NULL,
                version bigint NOT NULL,
                type smallint NOT NULL,
                record bytea NOT NULL,
                event_id uuid NOT NULL UNIQUE,
                UNIQUE (job, version)
            )
            """), logger: logger)
        try await client.query(PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(table)_follow ON \(table) (tx, position)"), logger: logger)
    }

    /// Commits `batches` in one transaction: the advisory locks of every job first (sorted), then
    /// each batch's expectations against the current versions (a conflicting batch fails alone),
    /// then the other batches' rows. Answers per batch, once committed.
    public func commit(_ batches: [[Pending]]) async throws -> [Result<[Stored], BatchError>] {
        let jobs = Set(batches.joined().map(\.job)).sorted { $0.lexicographicallyPrecedes($1) }
        let logger = self.logger
        let table = self.table
        return try await client.withTransaction(logger: logger) { connection in
            // 1. Locks before any write (docs/scale-out.md: why xid order is version order).
            for job in jobs {
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey(job)))", logger: logger)
            }
            // 2. Current versions.
            var versions: [[UInt8]: Int64] = [:]
            let current = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT job, max(version) FROM \(table) WHERE job = ANY($1) GROUP BY job", binds: {
                    var binds = PostgresBindings()
                    binds.append(jobs.map { ByteBuffer(bytes: $0) })
                    return binds
                }()), logger: logger)
            for try await (job, version) in current.decode((ByteBuffer, Int64).self) { versions[Array(buffer: job)] = version }
            // 3. Expectations, then 4. rows.
            var results: [Result<[Stored], BatchError>] = []
            for batch in batches {
                var next = versions
                var conflict: BatchError?
                var planned: [Int64] = []
                for event in batch {
                    let actual = next[event.job] ?? 0
                    if let expected = event.expectedVersion, expected != actual {
                        conflict = .versionConflict(job: event.job, expected: expected, actual: actual)
                        break
                    }
                    next[event.job] = actual + 1
                    planned.append(actual + 1)
                }
                if let conflict {
                    results.append(.failure(conflict))
                    continue
                }
                var stored: [Stored] = []
                for (event, version) in zip(batch, planned) {
                    let rows = try await connection.query(
                        PostgresQuery(unsafeSQL: "INSERT INTO \(table) (job, version, type, record, event_id) VALUES ($1, $2, $3, $4, $5) RETURNING position", binds: {
                            var binds = PostgresBindings()
                            binds.append(ByteBuffer(bytes: event.job))
                            binds.append(version)
                            binds.append(event.type)
                            binds.append(ByteBuffer(bytes: event.record))
                            binds.append(event.eventID)
                            return binds
                        }()), logger: logger)
                    for try await position in rows.decode(Int64.self) { stored.append(Stored(version: version, position: position)) }
                }
                versions = next
                results.append(.success(stored))
            }
            try await connection.query(PostgresQuery(unsafeSQL: "NOTIFY \(table)"), logger: logger)
            return results
        }
    }

    /// The rows after `cursor` in follow order, at most `limit`. With `belowXmin` (always, but for the
    /// negative control in the tests) only rows of transactions below the snapshot's xmin: every one
    /// of them has ended, so none can appear later below the cursor.
    public func read(after cursor: Cursor, limit: Int = 10_000, belowXmin: Bool = true) async throws -> [Row] {
        let bound = belowXmin ? "AND tx < pg_snapshot_xmin(pg_current_snapshot())" : ""
        let order = belowXmin ? "tx, position" : "position"
        let after = belowXmin ? "(tx::text::bigint, position) > ($1, $2)" : "position > $2"
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: """
                SELECT tx::text::bigint, position, job, version, record FROM \(table)
                WHERE \(after) \(bound) ORDER BY \(order) LIMIT $3
                """, binds: {
                    var binds = PostgresBindings()
                    binds.append(cursor.tx)
                    binds.append(cursor.position)
                    binds.append(Int64(limit))
                    return binds
                }()), logger: logger)
        var result: [Row] = []
        for try await (tx, position, job, version, record) in rows.decode((Int64, Int64, ByteBuffer, Int64, ByteBuffer).self) {
            result.append(Row(cursor: Cursor(tx: tx, position: position), job: Array(buffer: job), version: version, record: Array(buffer: record)))
        }
        return result
    }

    /// A 64-bit key for a job's advisory lock: FNV-1a over its bytes (a collision only serialises
    /// two jobs needlessly).
    static func lockKey(_ job: [UInt8]) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in job { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: h)
    }
}
