import ConcurrencyKit
import Foundation
import Logbook
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The shared log on PostgreSQL (docs/scale-out.md). One group of batches is one PostgreSQL
/// transaction that takes the table's order lock, then every job's advisory lock in sorted order,
/// before its first write, so that for every job xid order equals version order, and commits get
/// their xids in the order they commit (which lets a commit place its rows, and those before it,
/// in the follow order); followers read `(tx, position)` below the snapshot's xmin, so a
/// transaction that commits late is never skipped.
///
///     let log = try PostgresLog(url: "postgresql://logbook@db.internal/jobs")
///     var options = Logbook.Options()
///     options.sharedLog = log
///     let node = try Logbook.open(at: "node-a.journal", options: options)
///     …
///     node.close()
///     await log.shutdown()
public final class PostgresLog: SharedLog {
    public let name: String
    /// One client per member of the cluster (one for a single server).
    let members: [PostgresClient]
    let memberNames: [String]
    /// Each member for a direct connection, which names why it cannot be reached (empty when the
    /// caller gave the client).
    let directConfigurations: [PostgresConnection.Configuration]
    /// The member found to be the primary (until an error makes it doubtful), the last one found,
    /// and the failovers seen.
    let primaryState = Mutex<PrimaryState>(PrimaryState())
    let table: String
    let logger: Logger
    /// The clients' connection pools run in these tasks when the log made the clients itself.
    let running: Mutex<[Task<Void, Never>]>
    /// One LISTEN task per notification stream (each logbook on this log has its own).
    let listeners = Mutex<[Task<Void, Never>]>([])
    let schema = Mutex<Task<Void, any Error>?>(nil)
    /// Set once `createSchema` succeeded: later calls return at once.
    let schemaReady = Atomic<Bool>(false)
    /// Whether a commit is one statement in an implicit transaction (until the server's default
    /// isolation is found not to be READ COMMITTED).
    let singleStatementCommits = Atomic<Bool>(true)

    /// A log over `client`, which the caller runs (`client.run()`) and owns. `table` is checked by
    /// `validateTable` (letters, digits and underscores).
    public init(
        client: PostgresClient, name: String, table: String = "logbook_events", answerLimit: Duration = .seconds(5),
        logger: Logger = PostgresLog.quietLogger
    ) throws(JournalError) {
        try Self.validateTable(table)
        (self.members, self.memberNames, self.name, self.table, self.logger) = ([client], [name], name + "#" + table, table, logger)
        directConfigurations = []
        self.answerLimit = answerLimit
        running = Mutex([])
    }

    /// A log at `url` (`postgresql://user[:password]@host[:port]/database[?sslmode=…&host=/socket/dir]`),
    /// with its own connection pool, which `shutdown()` ends. The table is created when missing.
    ///
    /// Several URLs, separated by commas, name the members of one cluster (a primary and its
    /// standbys, under Patroni say): the log writes to and reads from whichever is the primary
    /// (`pg_is_in_recovery()` is false), and looks again after any failure, so it follows a
    /// failover. Their name, in every replica, is the members' names sorted.
    public init(url: String, table: String = "logbook_events", logger: Logger = PostgresLog.quietLogger) throws(JournalError) {
        try Self.validateTable(table)
        let urls = url.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw .sharedLog("no PostgreSQL URL given") }
        var clients: [PostgresClient] = []
        var names: [String] = []
        var direct: [PostgresConnection.Configuration] = []
        var limit: Duration = .seconds(5)
        for text in urls {
            let parsed = try PostgresURL(text)
            var configuration = parsed.configuration
            configuration.options.maximumConnections = 8  // a commit, a read and the listener at a time, with room
            // Those three are kept open, and none gets a keep-alive: the pool arms a timer (a task
            // group of two tasks) for a connection each time it comes back, keep-alive and, above the
            // kept ones, idle timeout; several thread switches per commit (docs/scale-out.md, "Bounds
            // a user sees"). A connection that died while idle fails its next query within the bound.
            configuration.options.minimumConnections = 3
            configuration.options.keepAliveBehavior = nil
            clients.append(PostgresClient(configuration: configuration, backgroundLogger: logger))
            names.append(parsed.name)
            direct.append(parsed.connection)
            limit = parsed.answerLimit
        }
        (self.members, self.memberNames, self.table, self.logger, directConfigurations) = (clients, names, table, logger, direct)
        name = names.sorted().joined(separator: ",") + "#" + table
        answerLimit = limit
        running = Mutex(clients.map { client in Task.detached { await client.run() } })
    }

    public var topology: SharedLogTopology {
        let state = primaryState.withLock { $0 }
        let primary = members.count == 1 ? 0 : state.current
        return SharedLogTopology(
            members: memberNames, primary: primary.map { memberNames[$0] }, failovers: state.failovers, lastFailover: state.lastFailover)
    }

    public static let quietLogger: Logger = {
        var logger = Logger(label: "logbook.postgres")
        logger.logLevel = .warning
        return logger
    }()

    static func validateTable(_ table: String) throws(JournalError) {
        let ok = !table.isEmpty && table.utf8.count <= 48 && table.utf8.first.map { !(48...57).contains($0) } == true
            && table.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        guard ok else {
            throw .sharedLog("table name \"\(table)\": use lower-case letters, digits and underscores (at most 48, not starting with a digit)")
        }
    }

    public func shutdown() async {
        listeners.withLock { for t in $0 { t.cancel() } }
        running.withLock { for t in $0 { t.cancel() } }
    }

    // MARK: commit

    public func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        try await commit(CommitCall(group: group, retry: retry, placeAfter: nil, origin: "")).results
    }

    public func commit(_ group: [[SharedLogEntry]], retry: Bool, placingAfter after: ReplicaCursor?, origin: String)
        async throws(SharedLogError) -> SharedLogCommit
    {
        // Placement is asked for only where it can be given: on a first attempt (a retry skips what an
        // earlier attempt stored, whose rows it does not return).
        let place = retry ? nil : after ?? .start
        return try await commit(CommitCall(group: group, retry: retry, placeAfter: place, origin: origin))
    }

    private func commit(_ call: CommitCall) async throws(SharedLogError) -> SharedLogCommit {
        try await createSchema()
        let events = call.group.reduce(0) { $0 + $1.count }
        let limit = answerLimit + .milliseconds(events / 10)
        return try await onPrimary(within: limit, unanswered: .outcomeUnknown("no answer within \(limit)")) { primary in
            try await primary.withConnection { connection in
                if self.singleStatementCommits.load(ordering: .relaxed) {
                    do {
                        let answer = try await self.implicitTransaction { try await self.commit(call, on: connection) }
                        guard answer.placed != nil else { return answer }
                        // The statement's rows arrive before its implicit transaction commits (at the
                        // protocol's Sync): only the next statement on this connection says it did.
                        do {
                            try await Self.run(connection, "SELECT 1", self.logger)
                        } catch {
                            throw SharedLogError.outcomeUnknown("no answer after the commit's rows (\(Self.classify(error)))")
                        }
                        return answer
                    } catch let error as NotCommitted where Self.serverError(in: error)?.serverInfo?[.sqlState] == Self.needsReadCommitted {
                        // The server's (or the role's) default isolation is not READ COMMITTED: from now
                        // on every commit opens its transaction itself (three round trips, not one).
                        self.singleStatementCommits.store(false, ordering: .relaxed)
                        self.logger.notice("default_transaction_isolation is not read committed: commits use BEGIN … COMMIT")
                    }
                }
                return try await self.transaction(on: connection) { try await self.commit(call, on: connection) }
            }
        }
    }

    /// The SQLSTATE the commit function raises, before it does anything, in a transaction that is
    /// not READ COMMITTED (an implicit one under another default).
    static let needsReadCommitted = "LB001"

    /// Runs `body`, one statement, as its own (implicit) transaction: one round trip per group. The
    /// commit function checks that the transaction is READ COMMITTED (the server's default; it
    /// raises `needsReadCommitted` otherwise) and raises `synchronous_commit` for it. A server's
    /// error for the statement rolled it back: `NotCommitted`, except an operator's intervention
    /// or a connection exception (SQLSTATE classes 57 and 08), which may come with the commit
    /// itself; a lost connection is left as it is (the outcome is unknown: the statement commits
    /// when it ends).
    func implicitTransaction<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let psql as PSQLError where psql.serverInfo != nil {
            let state = psql.serverInfo?[.sqlState] ?? ""
            if state.hasPrefix("57") || state.hasPrefix("08") { throw psql }
            throw NotCommitted(error: psql)
        }
    }

    /// Runs `body` in a transaction that is READ COMMITTED whatever the server's or the role's
    /// default: the commit function reads each job's version after taking its lock, which needs a
    /// snapshot per statement (under REPEATABLE READ it would read versions from before the lock).
    /// A failure before COMMIT was sent is marked `NotCommitted`: PostgreSQL stored nothing of the
    /// transaction, whatever happened to the connection. A failure of the COMMIT itself is left as
    /// it is: if the connection was lost, the outcome is unknown.
    func transaction<T>(on connection: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        do {
            try await Self.run(connection, "BEGIN ISOLATION LEVEL READ COMMITTED", logger)
        } catch {
            throw NotCommitted(error: error)
        }
        let result: T
        do {
            result = try await body()
        } catch {
            try? await Self.run(connection, "ROLLBACK", logger)
            throw NotCommitted(error: error)
        }
        try await Self.run(connection, "COMMIT", logger)
        return result
    }

    /// Runs `body` on the primary, bounded by `limit` (default: the answer limit; unanswered, it
    /// fails with `unanswered`). A failure is sorted by `classify`; one that may mean the primary
    /// changed (`doubtsPrimary`) makes it doubtful, so the next call looks for it again.
    func onPrimary<T: Sendable>(
        within limit: Duration? = nil, unanswered: SharedLogError? = nil, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws(SharedLogError) -> T {
        let limit = limit ?? answerLimit
        let unanswered = unanswered ?? .unavailable("no answer within \(limit) (is PostgreSQL running and reachable?)")
        do {
            return try await withDeadline(limit, timeout: unanswered) { try await body(try await self.primary()) }
        } catch {
            let failure = Self.classify(error)
            if Self.doubtsPrimary(failure, sqlState: Self.serverError(in: error)?.serverInfo?[.sqlState]) { doubtPrimary() }
            throw failure
        }
    }

    /// How long a read, or a commit (plus 1 ms per 10 events), may wait for PostgreSQL before it
    /// counts as failed (default 5 s; the URL's `connect_timeout`, in seconds, sets it). A
    /// connection that cannot be made otherwise waits for ever in the pool.
    public let answerLimit: Duration

    /// One commit's arguments.
    struct CommitCall: Sendable {
        var group: [[SharedLogEntry]]
        var retry: Bool
        /// Placement is asked for after this cursor (nil: not asked for).
        var placeAfter: ReplicaCursor?
        var origin: String
    }

    func commit(_ call: CommitCall, on connection: PostgresConnection) async throws -> SharedLogCommit {
        let group = call.group
        // The whole group is one call of the table's commit function (one round trip inside the
        // transaction): it takes every job's lock, in the order of the keys, before any write
        // (docs/scale-out.md: why xid order is version order), then checks and inserts batch by batch.
        let keys = Set(group.joined().map { Self.lockKey($0.job) }).sorted()
        var ends: [Int32] = []
        var (jobs, expected, types, records, ids) = ([ByteBuffer](), [Int64](), [Int16](), [ByteBuffer](), [UUID]())
        for batch in group {
            for entry in batch {
                jobs.append(ByteBuffer(string: entry.job))
                expected.append(entry.expectedVersion.map { Int64($0) } ?? -1)
                types.append(Int16(entry.type.rawValue))
                records.append(ByteBuffer(bytes: entry.record))
                ids.append(UUID(entry.id))
            }
            ends.append(Int32(jobs.count))
        }
        let rows = try await connection.query(
            """
            SELECT batch, job, expected, actual, placed_tx, placed_positions, placed_versions, placed_system, placed_timeline,
                   row_tx, row_position, row_version, row_record, row_id
            FROM \(unescaped: table)_commit(
                \(keys)::bigint[], \(ends)::int[], \(jobs)::bytea[], \(expected)::bigint[], \(types)::smallint[],
                \(records)::bytea[], \(ids)::uuid[], \(call.retry), \(call.placeAfter.map { String($0.tx) })::xid8, \(call.placeAfter?.position),
                \(call.origin), \(Int32(Self.placedRowsLimit))::int)
            """, logger: logger)
        var results = [Result<Void, JournalError>](repeating: .success(()), count: group.count)
        var placedAt: (tx: Int64, positions: [Int64], versions: [Int64])?
        var cluster: (system: String, timeline: String?)?
        var between: [SharedLogRow] = []
        let columns = (Int32?, ByteBuffer?, Int64?, Int64?, Int64?, [Int64]?, [Int64]?, String?, String?,
                       Int64?, Int64?, Int64?, ByteBuffer?, UUID?).self
        for try await (batch, job, expected, actual, tx, positions, versions, system, timeline, rowTX, position, version, record, id)
            in rows.decode(columns)
        {
            if let tx, let positions, let versions {
                placedAt = (tx, positions, versions)
                cluster = system.map { ($0, timeline) }
                continue
            }
            if let rowTX, let position, let version, let record, let id {
                between.append(SharedLogRow(
                    cursor: .init(tx: rowTX, position: position), version: UInt64(version), record: Array(buffer: record), id: EventID(id)))
                continue
            }
            guard let batch, let expected, let actual else { continue }
            if expected == -2, let first = group[Int(batch) - 1].first {
                results[Int(batch) - 1] = .failure(
                    .idConflict(
                        id: first.id,
                        detail: "the shared log holds \(actual) of the batch's \(group[Int(batch) - 1].count) event ids but not "
                            + "all: a retry must repeat its batch exactly, ids included"))
                continue
            }
            results[Int(batch) - 1] = .failure(
                .versionConflict(
                    job: String(decoding: (job ?? ByteBuffer()).readableBytesView, as: UTF8.self), expected: UInt64(expected),
                    actual: UInt64(actual)))
        }
        // Placed: every entry was stored by this transaction, and the function returned every row between
        // the cursor and it, on the cluster and timeline the follower has been reading (after a failover
        // behind one address, or on another cluster, the follower reads and checks first: not placed).
        let entries = Array(group.joined())
        guard let placedAt, placedAt.positions.count == entries.count, placedAt.versions.count == entries.count, let cluster
        else { return SharedLogCommit(results: results, placed: nil) }
        let failovers = primaryState.withLock { $0.failovers }
        guard (try? noteCluster(system: cluster.system, timeline: cluster.timeline)) != nil,
            primaryState.withLock({ $0.failovers }) == failovers
        else { return SharedLogCommit(results: results, placed: nil) }
        var placed = between
        placed.reserveCapacity(between.count + entries.count)
        for (i, entry) in entries.enumerated() {
            placed.append(SharedLogRow(
                cursor: ReplicaCursor(tx: placedAt.tx, position: placedAt.positions[i]), version: UInt64(placedAt.versions[i]),
                record: entry.record, id: entry.id))
        }
        placed.sort { $0.cursor < $1.cursor }
        return SharedLogCommit(results: results, placed: placed)
    }

    /// Runs `query` to its end: a statement's error surfaces only while its results are read, and
    /// a transaction whose error went unread would answer COMMIT with a silent rollback.
    static func run(_ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }

    /// The most rows of other transactions a placed commit brings back (those between the cursor it
    /// was given and its own); with more, it is not placed and the follower reads them.
    static let placedRowsLimit = 1_024

    /// A 64-bit key for a job's advisory lock: FNV-1a over its bytes (a collision only serialises
    /// two jobs needlessly).
    static func lockKey(_ job: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in job.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: h)
    }
}
