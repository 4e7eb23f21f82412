import Foundation
import Logbook
import Logging
import PostgresNIO
import Synchronization

/// Reading the log in follow order, and the notifications that wake a follower.
extension PostgresLog {
    public func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        try await read(after: cursor, limit: limit, belowXmin: true)
    }

    /// The rows after `cursor` in follow order. With `belowXmin` (always, but for the negative
    /// control in the tests) only rows of transactions below the snapshot's xmin: every one of them
    /// has ended, so none can appear later below the cursor. Without it, rows after the cursor's
    /// position in position order: the plain cursor that skips late commits.
    ///
    /// Each read also names the cluster that answered (its system identifier, and its timeline
    /// while it is a primary), in the same round trip: behind one URL (a proxy, a DNS name,
    /// pgbouncer) a failover is otherwise invisible. A new timeline counts as a failover in
    /// `topology`, so the follower checks that the log still holds its last applied event; another
    /// system identifier is another cluster, which this replica cannot follow (`incompatible`).
    public func read(after cursor: ReplicaCursor?, limit: Int, belowXmin: Bool) async throws(SharedLogError) -> [SharedLogRow] {
        try await createSchema()
        let c = cursor ?? .start
        let rowsQuery =
            belowXmin
            ? """
            SELECT tx::text::bigint AS tx, position, version, record, event_id FROM \(table)
            WHERE (tx, position) > ('\(c.tx)'::xid8, \(c.position)) AND tx < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY tx, position LIMIT \(limit)
            """
            : """
            SELECT tx::text::bigint AS tx, position, version, record, event_id FROM \(table)
            WHERE position > \(c.position) ORDER BY position LIMIT \(limit)
            """
        // The cluster's identity comes first and once; a read of no rows still answers it.
        let query = PostgresQuery(unsafeSQL: """
            SELECT s.system_identifier::text, CASE WHEN pg_is_in_recovery() THEN NULL
                   ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END,
                   r.tx, r.position, r.version, r.record, r.event_id
            FROM pg_control_system() s LEFT JOIN LATERAL (\(rowsQuery)) r ON true
            """)
        let logger = self.logger
        let (cluster, rows) = try await onPrimary { primary in
            var cluster: (system: String, timeline: String?)?
            var result: [SharedLogRow] = []
            let rows = try await primary.query(query, logger: logger)
            for try await (system, timeline, tx, position, version, record, id)
                in rows.decode((String, String?, Int64?, Int64?, Int64?, ByteBuffer?, UUID?).self)
            {
                cluster = (system, timeline)
                guard let tx, let position, let version, let record, let id else { continue }
                result.append(SharedLogRow(
                    cursor: .init(tx: tx, position: position), version: UInt64(version), record: Array(buffer: record),
                    id: EventID(id)))
            }
            return (cluster, result)
        }
        if let cluster { try noteCluster(system: cluster.system, timeline: cluster.timeline) }
        return rows
    }

    /// Compares the cluster that answered with the one this log has been reading: another system
    /// identifier is refused; another timeline is a failover (see `read`).
    func noteCluster(system: String, timeline: String?) throws(SharedLogError) {
        let change = primaryState.withLock { state -> (from: String, to: String, failover: Bool)? in
            guard let known = state.cluster else {
                state.cluster = (system, timeline)
                return nil
            }
            if known.system != system { return (known.system, system, false) }
            guard let timeline, let before = known.timeline, timeline != before else {
                if known.timeline == nil { state.cluster?.timeline = timeline }
                return nil
            }
            state.cluster = (system, timeline)
            state.failovers += 1
            state.lastFailover = .init(at: Logbook.systemClock(), from: "\(name) timeline \(before)", to: "\(name) timeline \(timeline)")
            return (before, timeline, true)
        }
        guard let change else { return }
        if change.failover {
            logger.warning("PostgreSQL timeline changed behind one address", metadata: ["from": "\(change.from)", "to": "\(change.to)"])
            return
        }
        throw .incompatible(
            "\(name) now answers from another PostgreSQL cluster (system identifier \(change.to), was \(change.from)): "
                + "this replica cannot follow it; if the log was restored into a new cluster, replace this replica with a new, empty journal")
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
    public func commitNotifications() -> AsyncStream<Void> { notifications(except: nil) }

    /// `commitNotifications()` but for those of commits `origin` made (their payload).
    public func commitNotifications(except origin: String) -> AsyncStream<Void> { notifications(except: origin) }

    private func notifications(except origin: String?) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        listen(continuation) { payload in
            if let payload, let origin, Self.notice(payload).origin == origin { return }
            continuation.yield()
        }
        return stream
    }

    /// Each notification but those of `origin`'s commits, with its transaction (nil for one from a
    /// node that does not name it, and once after a lost connection). Kept whole, unlike
    /// `commitNotifications`, so that no transaction a follower must read is merged away.
    public func commitNotices(except origin: String) -> AsyncStream<Int64?> {
        let (stream, continuation) = AsyncStream<Int64?>.makeStream(bufferingPolicy: .unbounded)
        listen(continuation) { payload in
            guard let payload else {
                continuation.yield(nil)
                return
            }
            let notice = Self.notice(payload)
            if notice.origin != origin { continuation.yield(notice.tx) }
        }
        return stream
    }

    /// A notification's payload: the committing node's origin, then (schema 6) its transaction.
    static func notice(_ payload: String) -> (origin: Substring, tx: Int64?) {
        guard let space = payload.lastIndex(of: " ") else { return (payload[...], nil) }
        return (payload[..<space], Int64(payload[payload.index(after: space)...]))
    }

    /// One LISTEN task feeding `heard` (nil after a lost connection) until `continuation` ends.
    private func listen<Element>(_ continuation: AsyncStream<Element>.Continuation, _ heard: @escaping @Sendable (String?) -> Void) {
        let task = Task.detached { [table] in
            while !Task.isCancelled {
                do {
                    try await self.primary().withConnection { connection in
                        try await connection.listen(on: table) { notifications in
                            heard(nil)
                            for try await notification in notifications { heard(notification.payload) }
                        }
                    }
                } catch {
                    self.doubtPrimary()  // LISTEN fails on a member that is no longer the primary
                    heard(nil)
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            continuation.finish()
        }
        listeners.withLock { $0.append(task) }
        continuation.onTermination = { _ in task.cancel() }
    }
}
