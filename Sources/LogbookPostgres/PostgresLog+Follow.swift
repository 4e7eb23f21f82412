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
}
