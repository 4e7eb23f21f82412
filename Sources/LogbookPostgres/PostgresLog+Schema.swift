import ConcurrencyKit
import Logbook
import Logging
import PostgresNIO
import Synchronization

/// The table, its follow index and the commit function: created, or migrated, once per database,
/// with the version of the schema kept beside them (`<table>_schema`).
extension PostgresLog {
    /// The schema this build creates and knows. 1: the table, its follow index and the commit
    /// function. 2: the commit function raises `synchronous_commit` to `on` and relies on the
    /// commit's READ COMMITTED transaction. 3: with `retry`, a batch is skipped as stored only when
    /// all its event ids are there, and refused (`expected` -2) when only some are (clients' ids).
    /// 4: the function may run as its own implicit transaction (one round trip per group): it raises
    /// `needsReadCommitted` in a transaction that is not READ COMMITTED. 5: the function may place
    /// what it stored in the follow order (after a cursor the caller gives), returning the rows'
    /// places and versions, and names the committing node in its notification (a new signature
    /// beside version 4's, which nodes still running version 4 keep calling). 6: every commit takes
    /// one order lock first, so commits can be placed with several nodes; a placed commit also
    /// returns the other rows between the cursor and its own (at most `p_rows`), and its notification
    /// names its transaction (a new signature beside version 5's, kept for nodes still running it).
    /// 7: the same function, whose statements are planned once per connection, not at every call
    /// (`plan_cache_mode = force_generic_plan`): the same signature, so nodes still running version 6
    /// call it and commit as before.
    static let schemaVersion = 7

    /// Brings the schema to this build's version (once per log; appends and reads wait for it):
    /// nothing to do when it is there; created whole on a new table; migrated from an older version
    /// (a table without a version is 1, made before versions were kept); refused, and left as it is,
    /// when it is newer than this build knows (`SharedLogError.incompatible`): during a rolling
    /// upgrade an old node stops rather than overwrite what a new one installed.
    public func createSchema() async throws(SharedLogError) {
        if schemaReady.load(ordering: .acquiring) { return }
        let task = schema.withLock { t in
            if let t { return t }
            let made = Task<Void, any Error> {
                // Two nodes starting at once would race in CREATE … IF NOT EXISTS (which is not atomic
                // in PostgreSQL: "type already exists"); one lock per table name serialises them.
                try await self.primary().withTransaction(logger: self.logger) { connection in
                    try await Self.run(connection, "SELECT pg_advisory_xact_lock(\(Self.lockKey("schema " + self.table)))::text", self.logger)
                    try await self.prepareSchema(on: connection)
                }
            }
            t = made
            return made
        }
        do {
            let unanswered = SharedLogError.unavailable("no answer within \(answerLimit) (is PostgreSQL running and reachable?)")
            try await withDeadline(answerLimit, timeout: unanswered) { try await task.value }
            schemaReady.store(true, ordering: .releasing)
        } catch {
            schema.withLock { t in
                t?.cancel()
                t = nil  // try again next time
            }
            let failure = Self.classify(error)
            if Self.doubtsPrimary(failure, sqlState: Self.serverError(in: error)?.serverInfo?[.sqlState]) { doubtPrimary() }
            throw failure
        }
    }

    /// Creates, migrates or accepts the schema, in the caller's transaction (under the schema lock).
    func prepareSchema(on connection: PostgresConnection) async throws {
        let stored = try await storedSchemaVersion(on: connection)
        if stored == Self.schemaVersion { return }
        if let stored, stored > Self.schemaVersion {
            throw SharedLogError.incompatible(
                "the shared log's schema (\(table)) is version \(stored), newer than this build of Logbook knows "
                    + "(version \(Self.schemaVersion)): a newer node upgraded it; upgrade this node (nothing was changed)")
        }
        if stored == nil {
            try await Self.run(connection, PostgresQuery(unsafeSQL: """
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
                """), logger)
            try await Self.run(
                connection, PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(table)_follow ON \(table) (tx, position)"), logger)
        }
        // Every version so far changed only the commit function: installing this build's is the
        // whole migration from any older one.
        try await Self.run(connection, PostgresQuery(unsafeSQL: Self.commitFunction(table)), logger)
        try await Self.run(connection, PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(table)_schema (version int NOT NULL)"), logger)
        try await Self.run(connection, PostgresQuery(unsafeSQL: "DELETE FROM \(table)_schema"), logger)
        try await Self.run(
            connection, PostgresQuery(unsafeSQL: "INSERT INTO \(table)_schema (version) VALUES (\(Self.schemaVersion))"), logger)
    }

    /// The schema's version as stored: nil without the table, 1 for a table made before versions.
    func storedSchemaVersion(on connection: PostgresConnection) async throws -> Int? {
        var exists = (table: false, version: false)
        let names = (table, table + "_schema")
        let query: PostgresQuery = "SELECT to_regclass(\(names.0)) IS NOT NULL, to_regclass(\(names.1)) IS NOT NULL"
        for try await row in try await connection.query(query, logger: logger).decode((Bool, Bool).self) { exists = row }
        guard exists.table else { return nil }
        guard exists.version else { return 1 }
        var version: Int32 = 1
        let read = PostgresQuery(unsafeSQL: "SELECT version FROM \(table)_schema")
        for try await v in try await connection.query(read, logger: logger).decode(Int32.self) { version = v }
        return Int(version)
    }

    /// The commit function: one group, all in the caller's transaction, which must be READ
    /// COMMITTED (an implicit one under the usual default, or `transaction(on:_:)`): there every statement of a VOLATILE PL/pgSQL function takes a new
    /// snapshot, so the versions it reads after the locks are those the previous holders committed.
    /// It raises `synchronous_commit` to at least `on` for its transaction. Returns one row per
    /// batch refused for its expected versions (`expected` -1 means none), or, with `retry`, for
    /// holding some of its event ids but not all (`expected` -2, `actual` the ids found); the other
    /// batches are stored, or, with `retry`, were stored by an earlier attempt or an earlier request
    /// with the same client ids (all their ids are there: a batch is stored whole). The common case, no conflict and no retry, costs one check and one
    /// insert for the whole group.
    static func commitFunction(_ table: String) -> String {
        """
        CREATE OR REPLACE FUNCTION \(table)_commit(
            p_keys bigint[], p_ends int[], p_job bytea[], p_expected bigint[], p_type smallint[], p_record bytea[], p_id uuid[],
            p_retry boolean, p_after_tx xid8, p_after_position bigint, p_origin text, p_rows int)
        RETURNS TABLE (
            batch int, job bytea, expected bigint, actual bigint,
            placed_tx bigint, placed_positions bigint[], placed_versions bigint[], placed_system text, placed_timeline text,
            row_tx bigint, row_position bigint, row_version bigint, row_record bytea, row_id uuid)
        LANGUAGE plpgsql VOLATILE
        -- Every read here has an index that bounds it; a plan cached while the table was small (or
        -- before its statistics were gathered) would otherwise scan the whole table at every call.
        SET enable_seqscan = off
        -- Each statement is planned once per connection: a plan made for the values of one call (the
        -- default for a statement's first calls, and later whenever the planner guesses it cheaper)
        -- cost more to make than to run, every call (docs/scale-out.md, "Where the time goes").
        SET plan_cache_mode = force_generic_plan
        AS $fn$
        DECLARE
            b int;
            first int := 1;
            present bigint;
            inserted boolean := false;
            me xid8;
            between_rows int;
        BEGIN
            -- Versions are read after the locks, so each statement needs its own snapshot.
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'the commit needs a READ COMMITTED transaction' USING ERRCODE = '\(needsReadCommitted)';
            END IF;
            -- An acknowledged event must survive a crash of PostgreSQL (and reach a synchronous
            -- standby where there is one), whatever the server's or the role's default.
            IF current_setting('synchronous_commit') IN ('off', 'local', 'remote_write') THEN
                PERFORM set_config('synchronous_commit', 'on', true);
            END IF;
            -- One commit order for every node: this lock first, before the first write gives the
            -- transaction its xid, and held until it has committed, so the commits that take it get
            -- their xids in the order they commit, and each finds the one before it ended.
            PERFORM pg_advisory_xact_lock(\(lockKey("order " + table)));
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
                    WITH stored AS (
                        INSERT INTO \(table) AS w (job, version, type, record, event_id)
                        SELECT u.job, coalesce(c.v, 0) + row_number() OVER (PARTITION BY u.job ORDER BY u.i), u.type, u.record, u.id
                        FROM unnest(p_job, p_type, p_record, p_id) WITH ORDINALITY AS u(job, type, record, id, i)
                        \(currentVersion(table, of: "u.job"))
                        ORDER BY u.i
                        RETURNING w.position, w.version, w.event_id)
                    SELECT array_agg(s.position ORDER BY u.i), array_agg(s.version ORDER BY u.i)
                    INTO placed_positions, placed_versions
                    FROM stored s JOIN unnest(p_id) WITH ORDINALITY AS u(id, i) ON u.id = s.event_id;
                    IF coalesce(array_length(p_job, 1), 0) > 0 THEN
                        -- Placed right after the caller's cursor when, in a snapshot taken after this
                        -- transaction's first write (its xid), no older transaction is still running (the
                        -- snapshot's xmin, which counts this one, is this one's xid; its list of running
                        -- xids would not do: it omits those at or above its xmax, the latest completed
                        -- xid plus one). Then the rows between the cursor and this transaction are final:
                        -- none can appear there later (every later transaction gets a younger xid), and
                        -- every later snapshot sees the same ones. At most p_rows of them come with the
                        -- answer, in follow order; with more, the caller reads (not placed).
                        me := pg_current_xact_id();
                        IF p_after_position IS NOT NULL AND pg_snapshot_xmin(pg_current_snapshot()) = me THEN
                            SELECT count(*) INTO between_rows
                            FROM (SELECT 1 FROM \(table) r
                                  WHERE (r.tx, r.position) > (p_after_tx, p_after_position) AND r.tx < me
                                  ORDER BY r.tx, r.position LIMIT p_rows + 1) n;
                            IF between_rows <= p_rows THEN
                                -- And which cluster placed them, as a read says (a failover behind one address).
                                placed_tx := me::text::bigint;
                                placed_system := (SELECT s.system_identifier::text FROM pg_control_system() s);
                                placed_timeline := substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8);
                                RETURN NEXT;
                                RETURN QUERY
                                    SELECT NULL::int, NULL::bytea, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint[],
                                           NULL::bigint[], NULL::text, NULL::text,
                                           r.tx::text::bigint, r.position, r.version, r.record, r.event_id
                                    FROM \(table) r
                                    WHERE (r.tx, r.position) > (p_after_tx, p_after_position) AND r.tx < me
                                    ORDER BY r.tx, r.position LIMIT p_rows;
                            END IF;
                        END IF;
                        -- The payload names the committing node and its transaction: a node whose own
                        -- commit already brought this one's rows need not read them.
                        PERFORM pg_notify('\(table)', p_origin || ' ' || me::text);
                    END IF;
                    RETURN;
                END IF;
            END IF;
            -- Otherwise batch by batch: a refused batch does not move the versions of the next.
            FOR b IN 1 .. coalesce(array_length(p_ends, 1), 0) LOOP
                IF p_retry THEN
                    SELECT count(*) INTO present FROM \(table) t WHERE t.event_id = ANY (p_id[first:p_ends[b]]);
                    IF present = p_ends[b] - first + 1 THEN
                        first := p_ends[b] + 1;  -- stored whole by an earlier attempt (or client)
                        CONTINUE;
                    ELSIF present > 0 THEN
                        batch := b; job := p_job[first]; expected := -2; actual := present;  -- ids mixed
                        RETURN NEXT;
                        first := p_ends[b] + 1;
                        CONTINUE;
                    END IF;
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
                PERFORM pg_notify('\(table)', p_origin || ' ' || pg_current_xact_id()::text);
            END IF;
        END
        $fn$
        """
    }

    /// The join that gives each row its job's current version as `c.v` (null for a new job): the
    /// `max(version)` of that one job, which PostgreSQL reads from the end of the (job, version)
    /// index, one entry per job whatever its history, so a commit's cost does not grow with the
    /// histories of its jobs (docs/scale-out.md).
    static func currentVersion(_ table: String, of job: String) -> String {
        "LEFT JOIN LATERAL (SELECT max(t.version) AS v FROM \(table) t WHERE t.job = \(job)) c ON true"
    }
}
