import Foundation
import Journal
import Lifecycle
import Logging
import LogbookPostgres
import PostgresNIO
import TestSupport
import Testing

/// The ordering core of the shared PostgreSQL log (docs/scale-out.md), against a throwaway
/// PostgreSQL 15. Skipped where Debian's binaries are missing (`make test` installs them).
@Suite(.enabled(if: PostgresServer.available), .serialized) struct PostgresLogTests {
    /// Starts a server and a client, runs `body` with a log on a fresh table, then stops both.
    func withLog(_ body: (PostgresLog, PostgresClient) async throws -> Void) async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let client = PostgresClient(configuration: .init(
            unixSocketPath: server.socketPath, username: "postgres", password: nil, database: "postgres"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let log = PostgresLog(client: client)
            try await log.createSchema()
            try await body(log, client)
        }
    }

    static func event(_ job: String, expect: Int64? = nil, id: UUID = UUID()) -> PostgresLog.Pending {
        PostgresLog.Pending(job: Array(job.utf8), type: 6, record: Array("record of \(job)".utf8), eventID: id, expectedVersion: expect)
    }

    @Test func expectedVersionsHoldPerBatchAndAConflictingBatchFailsAlone() async throws {
        try await withLog { log, _ in
            let first = try await log.commit([[Self.event("a", expect: 0), Self.event("a", expect: nil)]])
            #expect(try first[0].get().map(\.version) == [1, 2])
            let group = try await log.commit([[Self.event("a", expect: 1)], [Self.event("b", expect: 0), Self.event("a", expect: 2)]])
            #expect(group[0] == .failure(.versionConflict(job: Array("a".utf8), expected: 1, actual: 2)))
            #expect(try group[1].get().map(\.version) == [1, 3], "the other batch of the group is stored")
            let rows = try await log.read(after: .init())
            #expect(rows.map { String(decoding: $0.job, as: UTF8.self) + "\($0.version)" } == ["a1", "a2", "b1", "a3"])
        }
    }

    @Test func aRetriedEventIDIsRefusedByTheTableSoItIsStoredOnce() async throws {
        try await withLog { log, _ in
            let id = UUID()
            _ = try await log.commit([[Self.event("a", id: id)]])
            await #expect(throws: (any Error).self) { _ = try await log.commit([[Self.event("a", id: id)]]) }
            #expect(try await log.read(after: .init()).count == 1, "the failed retry rolled back whole")
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
                        "INSERT INTO logbook_events (job, version, type, record, event_id) VALUES (\(ByteBuffer(string: "late")), 1, 6, \(ByteBuffer(string: "r")), \(UUID()))",
                        logger: logger)
                    opened.set(true)
                    while !release.value { try await Task.sleep(for: .milliseconds(10)) }
                }
            }
            while !opened.value { try await Task.sleep(for: .milliseconds(10)) }
            _ = try await log.commit([[Self.event("early")]])
            // Plain position cursor: sees the early row only, and moves past the late row's position.
            let plain = try await log.read(after: .init(), belowXmin: false)
            #expect(plain.map { String(decoding: $0.job, as: UTF8.self) } == ["early"])
            let plainCursor = try #require(plain.last).cursor
            // Bounded: nothing yet, since the late transaction holds xmin back.
            #expect(try await log.read(after: .init()).isEmpty)
            release.set(true)
            try await late.value
            // The plain cursor never comes back for the late row: it is skipped.
            #expect(try await log.read(after: plainCursor, belowXmin: false).isEmpty, "the negative control skips")
            // The bounded cursor delivers both, the late transaction's row first (its xid is older).
            let bounded = try await log.read(after: .init())
            #expect(bounded.map { String(decoding: $0.job, as: UTF8.self) } == ["late", "early"])
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
                            _ = try await log.commit([picked.map { Self.event($0) }])
                        }
                    }
                }
                try await group.waitForAll()
            }
            var cursor = PostgresLog.Cursor()
            var seen: [[UInt8]: Int64] = [:]
            var total = 0
            while true {
                let rows = try await log.read(after: cursor, limit: 50)
                guard let last = rows.last else { break }
                for row in rows {
                    #expect(row.version == (seen[row.job] ?? 0) + 1, "job \(String(decoding: row.job, as: UTF8.self)) out of order")
                    seen[row.job] = row.version
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
            let at = Timestamp(seconds: 1_780_272_000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for round in 0..<10 {
                            let jobs = ["scan-\((task + round) % 5)", "crawl-\(task % 3)"]
                            _ = try await log.commit([jobs.map { job in
                                let event = Event(job: job, type: .heartbeat, at: at, attempt: 1, data: #"{"round":\#(round)}"#)
                                return PostgresLog.Pending(
                                    job: Array(job.utf8), type: Int16(EventType.heartbeat.rawValue),
                                    record: Journal.encodeRecord(seq: 0, version: 0, appendedAt: at, event: event))
                            }])
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
                var cursor = PostgresLog.Cursor()
                while true {
                    let rows = try await log.read(after: cursor, limit: name == "node-a" ? 7 : 50)  // different batch sizes
                    guard let last = rows.last else { break }
                    try replica.applyReplicated(
                        rows.map { Journal.ReplicatedRecord(version: UInt64($0.version), record: $0.record) },
                        cursor: .init(tx: last.cursor.tx, position: last.cursor.position))
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
}
