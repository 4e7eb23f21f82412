import Foundation
import Logbook
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The shared log on PostgreSQL (docs/scale-out.md). One group of batches is one PostgreSQL
/// transaction that takes every job's advisory lock, in sorted order, before its first write, so
/// that for every job xid order equals version order; followers read `(tx, position)` below the
/// snapshot's xmin, so a transaction that commits late is never skipped.
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
    private let directConfigurations: [PostgresConnection.Configuration]
    /// The member found to be the primary (until an error makes it doubtful), the last one found,
    /// and the failovers seen.
    private let primaryState = Mutex<PrimaryState>(PrimaryState())
    let table: String
    let logger: Logger
    /// The clients' connection pools run in these tasks when the log made the clients itself.
    private let running: Mutex<[Task<Void, Never>]>
    /// One LISTEN task per `commitNotifications()` stream (each logbook on this log has its own).
    private let listeners = Mutex<[Task<Void, Never>]>([])
    private let schema = Mutex<Task<Void, any Error>?>(nil)

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

    /// The primary's client: the only member, or the first member to answer that it is not in
    /// recovery. Members are asked at once, so a dead one (whose pool may wait for ever) does not
    /// hold up the answer of a live one.
    func primary() async throws -> PostgresClient {
        if let i = primaryState.withLock({ $0.current }) { return members[i] }
        if members.count == 1 {
            // A pool that cannot connect retries quietly until the caller's bound: a direct
            // connection says why at once (no such socket, refused, password…).
            if let failure = await connectFailure(0) { throw failure }
            primaryState.withLock { ($0.current, $0.last) = (0, 0) }
            return members[0]
        }
        // A dead member's pool keeps trying to connect: a short bound on each probe, so the caller's
        // retries (which ask again) go on while a standby is promoted.
        let (members, names, limit, logger) = (self.members, memberNames, min(answerLimit, Self.probeLimit), self.logger)
        let index: Int = try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            let answers = Answers()
            for (i, member) in members.enumerated() {
                Task {
                    let answer: String
                    do {
                        let standby = try await Self.within(limit, unanswered: .unavailable("no answer within \(limit)")) {
                            if let failure = await self.connectFailure(i) { throw failure }
                            let rows = try await member.query("SELECT pg_is_in_recovery()", logger: logger)
                            var inRecovery = true
                            for try await value in rows.decode(Bool.self) { inRecovery = value }
                            return inRecovery
                        }
                        if !standby {
                            _ = once.resume(.success(i))
                            return
                        }
                        answer = "\(names[i]): a standby"
                    } catch {
                        answer = "\(names[i]): \(Self.classify(error))"
                    }
                    let all = answers.list.withLock { a -> [String]? in
                        a.append(answer)
                        return a.count == members.count ? a : nil
                    }
                    if let all {
                        _ = once.resume(.failure(SharedLogError.unavailable("no primary among the members (\(all.joined(separator: "; ")))")))
                    }
                }
            }
        }
        primaryState.withLock { state in
            if let last = state.last, last != index {
                state.failovers += 1
                state.lastFailover = .init(at: Logbook.systemClock(), from: names[last], to: names[index])
                logger.warning("PostgreSQL primary changed", metadata: ["from": "\(names[last])", "to": "\(names[index])"])
            }
            (state.current, state.last) = (index, index)
        }
        return members[index]
    }

    public var topology: SharedLogTopology {
        let state = primaryState.withLock { $0 }
        let primary = members.count == 1 ? 0 : state.current
        return SharedLogTopology(
            members: memberNames, primary: primary.map { memberNames[$0] }, failovers: state.failovers, lastFailover: state.lastFailover)
    }

    static let probeLimit: Duration = .seconds(2)

    /// Why a new connection to member `i` cannot be made, found by making one directly; nil when it
    /// can (or when the caller gave the client). Asked only while no member is known to answer.
    func connectFailure(_ i: Int) async -> SharedLogError? {
        guard i < directConfigurations.count else { return nil }
        var configuration = directConfigurations[i]
        configuration.options.connectTimeout = .seconds(Int64(min(answerLimit, Self.probeLimit).components.seconds))
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            let member = members.count == 1 ? "" : "\(memberNames[i]): "  // one member: the log's name says it
            return switch Self.classify(error) {
            case .unavailable(let why), .outcomeUnknown(let why): .unavailable(member + why)
            case .failed(let why): .failed(member + why)
            }
        }
    }

    /// Forgets which member is the primary (after a failure: it may have failed over).
    func doubtPrimary() {
        primaryState.withLock { $0.current = nil }
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

    // MARK: schema

    /// Creates the table and its follow index when missing (once per log; appends and reads wait for it).
    public func createSchema() async throws(SharedLogError) {
        let task = schema.withLock { t in
            if let t { return t }
            let made = Task<Void, any Error> {
                // Two nodes starting at once would race in CREATE … IF NOT EXISTS (which is not atomic
                // in PostgreSQL: "type already exists"); one lock per table name serialises them.
                try await self.primary().withTransaction(logger: self.logger) { connection in
                    try await Self.run(connection, "SELECT pg_advisory_xact_lock(\(Self.lockKey("schema " + self.table)))::text", self.logger)
                    try await Self.run(connection, PostgresQuery(unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(self.table) (
                            position bigint GENERATED ALWAYS AS IDENTITY,
                            tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
                            job bytea NOT NULL,
                            version bigint NOT NULL,
                            type smallint NOT NULL,
                            record bytea NOT NULL,
                            event_id uuid NOT NULL UNIQUE,
                            UNIQUE (job, version)
                        )
                        """), self.logger)
                    try await Self.run(
                        connection,
                        PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(self.table)_follow ON \(self.table) (tx, position)"),
                        self.logger)
                    try await Self.run(connection, PostgresQuery(unsafeSQL: Self.commitFunction(self.table)), self.logger)
                }
            }
            t = made
            return made
        }
        do {
            let unanswered = SharedLogError.unavailable("no answer within \(answerLimit) (is PostgreSQL running and reachable?)")
            try await Self.within(answerLimit, unanswered: unanswered) { try await task.value }
        } catch {
            schema.withLock { t in
                t?.cancel()
                t = nil  // try again next time
            }
            doubtPrimary()
            throw Self.classify(error)
        }
    }

    // MARK: commit

    public func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        try await createSchema()
        let events = group.reduce(0) { $0 + $1.count }
        let limit = answerLimit + .milliseconds(events / 10)
        return try await onPrimary(within: limit, unanswered: .outcomeUnknown("no answer within \(limit)")) { primary in
            try await primary.withTransaction(logger: self.logger) { connection in
                try await self.commit(group, retry: retry, on: connection)
            }
        }
    }

    /// Runs `body` on the primary, bounded by `limit` (default: the answer limit; unanswered, it
    /// fails with `unanswered`). A failure is sorted by `classify`; one that may mean the primary
    /// changed (`doubtsPrimary`) makes it doubtful, so the next call looks for it again.
    private func onPrimary<T: Sendable>(
        within limit: Duration? = nil, unanswered: SharedLogError? = nil, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws(SharedLogError) -> T {
        let limit = limit ?? answerLimit
        let unanswered = unanswered ?? .unavailable("no answer within \(limit) (is PostgreSQL running and reachable?)")
        do {
            return try await Self.within(limit, unanswered: unanswered) { try await body(try await self.primary()) }
        } catch {
            let failure = Self.classify(error)
            if Self.doubtsPrimary(failure, sqlState: (error as? PSQLError)?.serverInfo?[.sqlState]) { doubtPrimary() }
            throw failure
        }
    }

    /// Rolled back by PostgreSQL for reasons that say nothing of the member that answered: a
    /// serialization failure, a deadlock, a unique violation from another writer. The retry may
    /// succeed on the same primary.
    static let transactionRetryStates: Set<String> = ["40001", "40P01", "23505"]

    /// Whether `failure` means the primary may have changed or gone, so that the next call asks the
    /// members again (with one member: makes one direct connection first, to name the cause at once).
    /// A final failure, or a transaction PostgreSQL rolled back, leaves the primary trusted.
    static func doubtsPrimary(_ failure: SharedLogError, sqlState: String?) -> Bool {
        if case .failed = failure { return false }
        if let sqlState, transactionRetryStates.contains(sqlState) { return false }
        return true
    }

    /// How long a read, or a commit (plus 1 ms per 10 events), may wait for PostgreSQL before it
    /// counts as failed (default 5 s; the URL's `connect_timeout`, in seconds, sets it). A
    /// connection that cannot be made otherwise waits for ever in the pool.
    public let answerLimit: Duration

    /// Runs `body`, or throws `unanswered` when it has not answered within `limit` (and cancels it).
    /// Unstructured on purpose: a query waiting in the pool for a connection that cannot be made
    /// ignores cancellation, and a task group would wait for it. One watchdog task checks every
    /// deadline, so a call costs one task, not a sleeping timer each.
    static func within<T: Sendable>(
        _ limit: Duration, unanswered: SharedLogError, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let once = ResumeOnce(continuation)
            let work = Task {
                do {
                    _ = once.resume(.success(try await body()))
                } catch {
                    _ = once.resume(.failure(error))
                }
            }
            Watchdog.shared.watch(until: ContinuousClock.now + limit) {
                if once.resume(.failure(unanswered)) { work.cancel() }
            }
        }
    }

    private func commit(_ group: [[SharedLogEntry]], retry: Bool, on connection: PostgresConnection) async throws
        -> [Result<Void, JournalError>]
    {
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
            SELECT batch, job, expected, actual FROM \(unescaped: table)_commit(
                \(keys)::bigint[], \(ends)::int[], \(jobs)::bytea[], \(expected)::bigint[], \(types)::smallint[],
                \(records)::bytea[], \(ids)::uuid[], \(retry))
            """, logger: logger)
        var results = [Result<Void, JournalError>](repeating: .success(()), count: group.count)
        for try await (batch, job, expected, actual) in rows.decode((Int32, ByteBuffer, Int64, Int64).self) {
            results[Int(batch) - 1] = .failure(
                .versionConflict(
                    job: String(decoding: job.readableBytesView, as: UTF8.self), expected: UInt64(expected), actual: UInt64(actual)))
        }
        return results
    }

    /// The commit function: one group, all in the caller's transaction. Every statement of a
    /// VOLATILE PL/pgSQL function takes a new snapshot, so the versions it reads after the locks are
    /// those the previous holders committed. Returns one row per batch refused for its expected
    /// versions (`expected` -1 means none); the other batches are stored, or, with `retry`, were
    /// stored by an earlier attempt (their first event id is there: a batch is stored whole). The
    /// common case, no conflict and no retry, costs one check and one insert for the whole group.
    ///
    static func commitFunction(_ table: String) -> String {
        """
        CREATE OR REPLACE FUNCTION \(table)_commit(
            p_keys bigint[], p_ends int[], p_job bytea[], p_expected bigint[], p_type smallint[], p_record bytea[], p_id uuid[],
            p_retry boolean)
        RETURNS TABLE (batch int, job bytea, expected bigint, actual bigint)
        LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            b int;
            first int := 1;
            inserted boolean := false;
        BEGIN
            PERFORM pg_advisory_xact_lock(k) FROM unnest(p_keys) AS k;
            -- Fast path (no retry, no conflict): if every expectation holds with every batch stored,
            -- every batch is stored; one check and one insert for the whole group.
            IF NOT p_retry THEN
                PERFORM 1
                FROM (SELECT u.expected, coalesce(c.v, 0) + row_number() OVER (PARTITION BY u.job ORDER BY u.i) - 1 AS cur
                      FROM unnest(p_job, p_expected) WITH ORDINALITY AS u(job, expected, i)
                      \(currentVersion(table, of: "u.job"))) e
                WHERE e.expected >= 0 AND e.expected <> e.cur
                LIMIT 1;
                IF NOT FOUND THEN
                    INSERT INTO \(table) (job, version, type, record, event_id)
                    SELECT u.job, coalesce(c.v, 0) + row_number() OVER (PARTITION BY u.job ORDER BY u.i), u.type, u.record, u.id
                    FROM unnest(p_job, p_type, p_record, p_id) WITH ORDINALITY AS u(job, type, record, id, i)
                    \(currentVersion(table, of: "u.job"))
                    ORDER BY u.i;
                    IF coalesce(array_length(p_job, 1), 0) > 0 THEN
                        PERFORM pg_notify('\(table)', '');
                    END IF;
                    RETURN;
                END IF;
            END IF;
            -- Otherwise batch by batch: a refused batch does not move the versions of the next.
            FOR b IN 1 .. coalesce(array_length(p_ends, 1), 0) LOOP
                IF p_retry AND EXISTS (SELECT 1 FROM \(table) t WHERE t.event_id = p_id[first]) THEN
                    first := p_ends[b] + 1;
                    CONTINUE;
                END IF;
                SELECT e.job, e.expected, coalesce(c.v, 0) + e.earlier INTO job, expected, actual
                FROM (SELECT u.job, u.expected, u.i, row_number() OVER (PARTITION BY u.job ORDER BY u.i) - 1 AS earlier
                      FROM unnest(p_job[first:p_ends[b]], p_expected[first:p_ends[b]]) WITH ORDINALITY AS u(job, expected, i)) e
                \(currentVersion(table, of: "e.job"))
                WHERE e.expected >= 0 AND e.expected <> coalesce(c.v, 0) + e.earlier
                ORDER BY e.i LIMIT 1;
                IF FOUND THEN
                    batch := b;
                    RETURN NEXT;
                ELSE
                    INSERT INTO \(table) (job, version, type, record, event_id)
                    SELECT u.job, coalesce(c.v, 0) + row_number() OVER (PARTITION BY u.job ORDER BY u.i), u.type, u.record, u.id
                    FROM unnest(p_job[first:p_ends[b]], p_type[first:p_ends[b]], p_record[first:p_ends[b]], p_id[first:p_ends[b]])
                         WITH ORDINALITY AS u(job, type, record, id, i)
                    \(currentVersion(table, of: "u.job"))
                    ORDER BY u.i;
                    inserted := true;
                END IF;
                first := p_ends[b] + 1;
            END LOOP;
            IF inserted THEN
                PERFORM pg_notify('\(table)', '');
            END IF;
        END
        $fn$
        """
    }

    /// The join that gives each row its job's current version as `c.v` (null for a new job): the
    /// `max(version)` of that one job, which PostgreSQL reads from the end of the (job, version)
    /// index, one entry per job whatever its history. (The grouped form this replaced, one
    /// `GROUP BY job` over every job of the group, read every version each job ever had: commits
    /// slowed as histories grew, to 11 ms for 27 events after a minute of heartbeats.)
    static func currentVersion(_ table: String, of job: String) -> String {
        "LEFT JOIN LATERAL (SELECT max(t.version) AS v FROM \(table) t WHERE t.job = \(job)) c ON true"
    }

    /// Runs `query` to its end: a statement's error surfaces only while its results are read, and
    /// a transaction whose error went unread would answer COMMIT with a silent rollback.
    static func run(_ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }

    // MARK: follow

    public func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        try await read(after: cursor, limit: limit, belowXmin: true)
    }

    /// The rows after `cursor` in follow order. With `belowXmin` (always, but for the negative
    /// control in the tests) only rows of transactions below the snapshot's xmin: every one of them
    /// has ended, so none can appear later below the cursor. Without it, rows after the cursor's
    /// position in position order: the plain cursor that skips late commits.
    public func read(after cursor: ReplicaCursor?, limit: Int, belowXmin: Bool) async throws(SharedLogError) -> [SharedLogRow] {
        try await createSchema()
        let c = cursor ?? ReplicaCursor(tx: 0, position: 0)
        let query: PostgresQuery =
            belowXmin
            ? """
            SELECT tx::text::bigint, position, version, record, event_id FROM \(unescaped: table)
            WHERE (tx, position) > (\(String(c.tx))::xid8, \(c.position)) AND tx < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY tx, position LIMIT \(Int64(limit))
            """
            : """
            SELECT tx::text::bigint, position, version, record, event_id FROM \(unescaped: table)
            WHERE position > \(c.position) ORDER BY position LIMIT \(Int64(limit))
            """
        let logger = self.logger
        return try await onPrimary { primary in
            var result: [SharedLogRow] = []
            let rows = try await primary.query(query, logger: logger)
            for try await (tx, position, version, record, id) in rows.decode((Int64, Int64, Int64, ByteBuffer, UUID).self) {
                result.append(SharedLogRow(
                    cursor: .init(tx: tx, position: position), version: UInt64(version), record: Array(buffer: record),
                    id: EventID(id)))
            }
            return result
        }
    }

    public func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? {
        try await createSchema()
        let query: PostgresQuery = """
            SELECT event_id FROM \(unescaped: table) WHERE tx = \(String(cursor.tx))::xid8 AND position = \(cursor.position)
            """
        let logger = self.logger
        return try await onPrimary { primary in
            var id: EventID?
            for try await uuid in try await primary.query(query, logger: logger).decode(UUID.self) { id = EventID(uuid) }
            return id
        }
    }

    /// Wakes on `LISTEN <table>`; after a lost connection, yields once and listens again (the
    /// follower reads, so nothing notified meanwhile waits for the next poll).
    public func commitNotifications() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let task = Task.detached { [table] in
            while !Task.isCancelled {
                do {
                    try await self.primary().withConnection { connection in
                        try await connection.listen(on: table) { notifications in
                            continuation.yield()
                            for try await _ in notifications { continuation.yield() }
                        }
                    }
                } catch {
                    self.doubtPrimary()  // LISTEN fails on a member that is no longer the primary
                    continuation.yield()
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            continuation.finish()
        }
        listeners.withLock { $0.append(task) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    // MARK: errors

    /// Sorts a failure by what a retry may do: a server's answer (but for rollbacks a retry may
    /// fix: serialization failures, deadlocks, unique violations that a re-read under the locks
    /// turns into version conflicts) is final; anything else lost the connection, so the outcome
    /// of a commit in flight is unknown.
    static func classify(_ error: any Error) -> SharedLogError {
        if let e = error as? SharedLogError { return e }
        guard let psql = error as? PSQLError else { return .outcomeUnknown("\(error)") }
        if let info = psql.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = "\(info[.message] ?? "error") (SQLSTATE \(state))"
            // Rolled back, and a retry may succeed: serialization failure, deadlock, a unique
            // violation (re-read under the locks), the server shutting down or starting, too many
            // connections, a connection exception, and a read-only transaction (a member that is
            // no longer the primary: the retry looks for the new one).
            if ["40001", "40P01", "23505", "57P01", "57P02", "57P03", "53300", "25006"].contains(state) || state.hasPrefix("08") {
                return .unavailable(message)
            }
            return .failed(message)
        }
        switch psql.code {
        case .connectionError, .poolClosed: return .unavailable("cannot connect: \(psql.underlying.map { "\($0)" } ?? "\(psql.code)")")
        default: return .outcomeUnknown("\(psql.code)\(psql.underlying.map { ": \($0)" } ?? "")")
        }
    }

    /// A 64-bit key for a job's advisory lock: FNV-1a over its bytes (a collision only serialises
    /// two jobs needlessly).
    static func lockKey(_ job: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in job.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: h)
    }
}

/// Runs each expiry it is given once its deadline has passed (checked every 100 ms by one task).
final class Watchdog: Sendable {
    static let shared = Watchdog()
    private let state = Mutex<(entries: [(deadline: ContinuousClock.Instant, expire: @Sendable () -> Void)], running: Bool)>(([], false))

    func watch(until deadline: ContinuousClock.Instant, _ expire: @escaping @Sendable () -> Void) {
        let start = state.withLock { s -> Bool in
            s.entries.append((deadline, expire))
            defer { s.running = true }
            return !s.running
        }
        if start { Task.detached { await self.run() } }
    }

    private func run() async {
        while true {
            try? await Task.sleep(for: .milliseconds(100))
            let now = ContinuousClock.now
            let due = state.withLock { s -> [@Sendable () -> Void]? in
                if s.entries.isEmpty {
                    s.running = false
                    return nil
                }
                let due = s.entries.filter { $0.deadline <= now }.map(\.expire)
                s.entries.removeAll { $0.deadline <= now }
                return due
            }
            guard let due else { return }
            for expire in due { expire() }
        }
    }
}

/// Which member is the primary, as far as one log knows.
struct PrimaryState: Sendable {
    /// The primary, until a failure makes it doubtful.
    var current: Int?
    /// The last member found to be the primary: finding another is a failover.
    var last: Int?
    var failovers = 0
    var lastFailover: SharedLogTopology.Failover?
}

/// What each member said when asked whether it is the primary.
final class Answers: Sendable {
    let list = Mutex<[String]>([])
}

/// A continuation resumed by whichever comes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>
    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }
    /// Resumes with `result` unless resumed already; true when this call did.
    func resume(_ result: Result<T, any Error>) -> Bool {
        guard let c = continuation.withLock({ c in defer { c = nil }; return c }) else { return false }
        c.resume(with: result)
        return true
    }
}

extension UUID {
    init(_ id: EventID) {
        let (h, l) = (id.high.bigEndian, id.low.bigEndian)
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            withUnsafeBytes(of: h) { raw.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8) }
            withUnsafeBytes(of: l) { (raw.baseAddress! + 8).copyMemory(from: $0.baseAddress!, byteCount: 8) }
        }
        self.init(uuid: bytes)
    }
}

extension EventID {
    init(_ uuid: UUID) {
        var u = uuid.uuid
        let (h, l) = withUnsafeBytes(of: &u) { raw in (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        self.init(high: UInt64(bigEndian: h), low: UInt64(bigEndian: l))
    }
}

/// A `postgresql://` (or `postgres://`) URL: user, password, host, port, database, and the query
/// parameters `host` (a unix socket directory, as libpq has it) and `sslmode` (disable, prefer,
/// require, verify-full).
struct PostgresURL {
    var configuration: PostgresClient.Configuration
    /// The same server for one direct connection (`PostgresLog.connectFailure`).
    var connection: PostgresConnection.Configuration
    /// How long to wait for an answer (`connect_timeout`).
    var answerLimit: Duration
    /// Where the log is, without user or password (two nodes logging in differently follow one log).
    var name: String

    init(_ text: String) throws(JournalError) {
        func bad(_ why: String) -> JournalError { .sharedLog("PostgreSQL URL \(Self.redacted(text)): \(why)") }
        guard let url = URLComponents(string: text), let scheme = url.scheme else {
            throw bad("not a URL (expected postgresql://user@host:port/database)")
        }
        guard scheme == "postgresql" || scheme == "postgres" else { throw bad("scheme \"\(scheme)\" is not postgresql://") }
        let user = url.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = url.password.flatMap { $0.removingPercentEncoding }
        var database = String(url.path.drop(while: { $0 == "/" }))
        database = database.removingPercentEncoding ?? database
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        for key in query.keys where !["host", "sslmode", "port", "connect_timeout", "application_name"].contains(key) {
            throw bad("unknown parameter \"\(key)\" (known: host, port, sslmode, connect_timeout)")
        }
        answerLimit = .seconds(5)
        if let t = query["connect_timeout"] {
            guard let n = Int(t), (1...3600).contains(n) else { throw bad("connect_timeout \"\(t)\" is not a number of seconds (1 to 3600)") }
            answerLimit = .seconds(n)
        }
        var port = url.port ?? 5432
        if let p = query["port"] {
            guard let n = Int(p), (1...65535).contains(n) else { throw bad("port \"\(p)\" is not a port number") }
            port = n
        }
        let dbName = database.isEmpty ? user : database
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let socket = socketDirectory + "/.s.PGSQL.\(port)"
            configuration = .init(unixSocketPath: socket, username: user, password: password, database: dbName)
            connection = .init(unixSocketPath: socket, username: user, password: password, database: dbName)
            name = "postgresql:///\(dbName)?host=\(socketDirectory)&port=\(port)"
        } else {
            guard let host = url.host, !host.isEmpty else { throw bad("no host (postgresql://user@host/database, or ?host=/socket/dir)") }
            let sslmode = query["sslmode"] ?? "disable"
            var tlsConfiguration: TLSConfiguration?
            switch sslmode {
            case "disable": break
            case "prefer", "require":
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none
                tlsConfiguration = c
            case "verify-full": tlsConfiguration = .makeClientConfiguration()
            case let other: throw bad("sslmode \"\(other)\" (use disable, prefer, require or verify-full)")
            }
            // The pool and the direct connection each want TLS in their own type.
            var tls: PostgresClient.Configuration.TLS = .disable
            var directTLS: PostgresConnection.Configuration.TLS = .disable
            if let tlsConfiguration {
                let context: NIOSSLContext
                do { context = try NIOSSLContext(configuration: tlsConfiguration) } catch { throw bad("sslmode: \(error)") }
                (tls, directTLS) = sslmode == "prefer"
                    ? (.prefer(tlsConfiguration), .prefer(context)) : (.require(tlsConfiguration), .require(context))
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: dbName, tls: tls)
            connection = .init(host: host, port: port, username: user, password: password, database: dbName, tls: directTLS)
            name = "postgresql://\(host):\(port)/\(dbName)"
        }
    }

    static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}
