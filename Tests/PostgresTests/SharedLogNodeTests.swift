import Foundation
import Journal
import Logbook
@testable import LogbookPostgres
import Synchronization
import TestSupport
import Testing

/// Logbook nodes on one shared PostgreSQL log (docs/scale-out.md), each with its own LMDB replica:
/// optimistic concurrency across nodes, read-your-writes, identical replicas, and an append whose
/// acknowledgement was lost retried with the same event ids and stored once.
@Suite(.enabled(if: PostgresServer.available), .serialized) struct SharedLogNodeTests {
    /// Runs `body` with `count` nodes on one fresh PostgreSQL (one log, one replica each).
    func withNodes(
        _ count: Int, wrap: @escaping @Sendable (PostgresLog) -> any SharedLog = { $0 },
        _ body: ([Logbook], [String], PostgresLog) async throws -> Void
    ) async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = TemporaryDirectory("nodes")
        defer { dir.cleanup() }
        var logs: [PostgresLog] = []
        var nodes: [Logbook] = []
        var paths: [String] = []
        for i in 0..<count {
            let log = try PostgresLog(url: server.url)
            var options = Logbook.Options()
            options.sharedLog = wrap(log)
            options.foreignAppendPollInterval = nil
            let path = dir.file("node-\(i).journal")
            nodes.append(try Logbook.open(at: path, options: options))
            logs.append(log)
            paths.append(path)
        }
        do {
            try await body(nodes, paths, logs[0])
        } catch {
            for n in nodes { n.close() }
            for l in logs { await l.shutdown() }
            throw error
        }
        for n in nodes { n.close() }
        for l in logs { await l.shutdown() }
    }

    static func export(_ path: String) throws -> String {
        var bytes: [UInt8] = []
        try Logbook.Maintenance.export(at: path) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func anAppendAnswersWithTheStateAfterItAndEveryNodeAppliesItAtTheSameSeq() async throws {
        try await withNodes(2) { nodes, paths, log in
            let created = try await nodes[0].append([Event(job: "scan-1", type: .created), Event(job: "scan-1", type: .started, node: "a")])
            #expect(created.seqs == [1, 2] && created.state.status == .running && created.state.version == 2, "read-your-writes")
            #expect(nodes[0].state(of: "scan-1")?.status == .running, "applied here before the answer")
            let cancelled = try await nodes[1].append(Event(job: "scan-1", type: .cancelled, reason: "operator"), expectedVersion: 2)
            #expect(cancelled.seqs == [3] && cancelled.state.status == .cancelled, "node b applied a's events first")
            try await nodes[0].catchUp()
            #expect(nodes[0].state(of: "scan-1")?.status == .cancelled, "the cancel reaches node a")
            #expect(nodes[0].state(of: "scan-1") == nodes[1].state(of: "scan-1"))
            #expect(try Self.export(paths[0]) == Self.export(paths[1]))
            #expect(nodes[1].maintenance.followerStatus()?.cursor != nil && nodes[1].maintenance.followerStatus()?.reachable == true)
        }
    }

    /// Seed 001: two nodes race to finish the same task, each with the version it read. One wins;
    /// the other is refused with a version conflict and nothing of it is stored, on any node.
    @Test func twoNodesRacingOnOneVersionOneWinsTheOtherIsRefused() async throws {
        try await withNodes(2) { nodes, paths, _ in
            _ = try await nodes[0].append([Event(job: "task", type: .created), Event(job: "task", type: .started, node: "a")])
            try await nodes[1].catchUp()
            let version = try #require(nodes[1].state(of: "task")).version
            @Sendable func attempt(_ node: Logbook, _ event: Event) async -> Result<AppendOutcome, JournalError> {
                do throws(JournalError) {
                    return .success(try await node.append(event, expectedVersion: version))
                } catch {
                    return .failure(error)
                }
            }
            async let a = attempt(nodes[0], Event(job: "task", type: .completed))
            async let b = attempt(nodes[1], Event(job: "task", type: .failed, reason: "reconciler"))
            let results = await [a, b]
            let wins = results.filter { (try? $0.get()) != nil }
            #expect(wins.count == 1)
            for case .failure(let error) in results {
                #expect(error == .versionConflict(job: "task", expected: version, actual: version + 1))
            }
            try await nodes[0].catchUp()
            try await nodes[1].catchUp()
            #expect(nodes[0].state(of: "task")?.version == 3 && nodes[1].state(of: "task")?.version == 3)
            #expect(try Self.export(paths[0]) == Self.export(paths[1]))
        }
    }

    /// The worker API carries over: a worker running its job on node A is cancelled at once when an
    /// operator cancels the job on node B (node A's follower applies the cancel, woken by
    /// PostgreSQL's notification, and `changes(of:)` tells the worker). The clock never moves.
    @Test func aCancelOnOneNodeStopsAWorkerOnAnother() async throws {
        try await withNodes(2) { nodes, _, _ in
            let started = Shared(false)
            let run = Task {
                try await nodes[0].run(job: "scan-3", node: "node-a", heartbeatEvery: .seconds(5), clock: ManualClock()) { _ in
                    started.set(true)
                    try await Task.sleep(for: .seconds(3600))
                }
            }
            #expect(await eventually { started.value })
            try await nodes[1].catchUp()
            let version = try #require(nodes[1].state(of: "scan-3")).version
            let cancel = try await nodes[1].append(Event(job: "scan-3", type: .cancelled, reason: "operator"), expectedVersion: version)
            let final = try await value(of: run, within: patientSeconds)
            #expect(final.status == .cancelled && final.decidedBy == cancel.seqs.first, "the same seq on both nodes")
            try await nodes[0].catchUp()
            try await nodes[1].catchUp()
            #expect(nodes[0].state(of: "scan-3") == nodes[1].state(of: "scan-3"))
        }
    }

    /// Many tasks on two nodes append multi-job batches at once; afterwards, in every replica, each
    /// job's versions are strictly increasing in log order, the projections equal a fold from
    /// scratch (`verify`), and the replicas are identical, seqs included.
    @Test func manyTasksOnTwoNodesLeaveIdenticalReplicasWithVersionsInOrder() async throws {
        try await withNodes(2) { nodes, paths, _ in
            let jobs = (0..<7).map { "job-\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<16 {
                    let node = nodes[task % 2]
                    group.addTask {
                        for round in 0..<12 {
                            let picked = [jobs[(task + round) % 7], jobs[(task * 3 + round * 5 + 1) % 7]]
                            let outcome = try await node.append(picked.map { Event(job: $0, type: .heartbeat, data: #"{"t":\#(task),"r":\#(round)}"#) })
                            for (event, stored) in zip(picked, outcome.events) { #expect(stored.event.job == event) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            for node in nodes { try await node.catchUp() }
            let total = 16 * 12 * 2
            for (node, path) in zip(nodes, paths) {
                #expect(try node.maintenance.lastSeq() == UInt64(total))
                let report = try Logbook.Maintenance.verify(at: path)
                #expect(report.records == total)
                var seen: [String: UInt64] = [:]
                let journal = try Journal.open(at: path, options: .forReading)
                defer { journal.close() }
                try journal.scan { e in
                    #expect(e.version == (seen[e.event.job] ?? 0) + 1, "job \(e.event.job) at seq \(e.seq) in \(path)")
                    seen[e.event.job] = e.version
                    return true
                }
            }
            #expect(try Self.export(paths[0]) == Self.export(paths[1]), "replicas identical")
        }
    }

    /// The connection dies after the commit reached PostgreSQL, before its answer: the node retries
    /// the group with the same event ids, and each event is stored exactly once. The append is
    /// answered once its events are applied here, which may be before the retries end: its answer
    /// is then the success it was, not the unknown outcome of the first attempt.
    @Test func anAppendWhoseAcknowledgementWasLostIsStoredOnce() async throws {
        let lose = Losses(2)
        try await withNodes(1, wrap: { LosingAcknowledgements(log: $0, losses: lose) }) { nodes, paths, _ in
            let outcome = try await nodes[0].append([Event(job: "dl", type: .created), Event(job: "dl", type: .started, node: "a")])
            #expect(outcome.seqs == [1, 2] && outcome.state.version == 2)
            #expect(await eventually { lose.remaining == 0 }, "two acknowledgements were lost, and the group retried")
            #expect(try nodes[0].maintenance.lastSeq() == 2, "stored once")
            let again = try await nodes[0].append(Event(job: "dl", type: .completed), expectedVersion: 2)
            #expect(again.seqs == [3])
            #expect(try Self.export(paths[0]).split(separator: "\n").count == 3)
        }
    }

    /// A journal with events of its own cannot become a node's replica, and a replica refuses local
    /// appends when opened without its shared log; reading it works as for any journal.
    @Test func aReplicaIsAnOrdinaryJournalForReadingButRefusesLocalWrites() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = TemporaryDirectory("replica-rules")
        defer { dir.cleanup() }
        let log = try PostgresLog(url: server.url)
        var options = Logbook.Options()
        options.sharedLog = log
        let local = try Logbook.open(at: dir.file("local.journal"))
        _ = try await local.append(Event(job: "x", type: .created))
        local.close()
        #expect(throws: JournalError.self) { _ = try Logbook.open(at: dir.file("local.journal"), options: options) }
        let node = try Logbook.open(at: dir.file("node.journal"), options: options)
        _ = try await node.append(Event(job: "y", type: .created))
        node.close()
        await log.shutdown()
        let plain = try Logbook.open(at: dir.file("node.journal"))
        defer { plain.close() }
        #expect(plain.state(of: "y")?.status == .pending, "readable without the shared log")
        await #expect(throws: JournalError.self) { _ = try await plain.append(Event(job: "y", type: .started, node: "n")) }
        #expect(try plain.maintenance.lastSeq() == 1)
    }

    /// A failover that loses committed events (asynchronous replication): the node's replica holds
    /// an event the new primary does not. The node finds out on its next read, stops following and
    /// refuses appends, naming the place; a failover that lost nothing goes unnoticed.
    @Test func aReplicaAheadOfItsLogAfterAFailoverStopsFollowingAndRefusesAppends() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = TemporaryDirectory("diverged")
        defer { dir.cleanup() }
        // Three tables on one server stand for the members of a cluster, each primary in turn.
        let members = try ["first", "second", "third"].map { try PostgresLog(url: server.url, table: $0) }
        let log = FailingOver(members)
        var options = Logbook.Options()
        options.sharedLog = log
        options.foreignAppendPollInterval = nil
        options.sharedLogPollInterval = .milliseconds(20)
        let node = try Logbook.open(at: dir.file("node.journal"), options: options)
        defer { node.close() }
        for i in 1...5 { _ = try await node.append(Event(job: "j", type: .heartbeat, data: #"{"i":\#(i)}"#)) }
        let copy = "(tx, position, job, version, type, record, event_id) OVERRIDING SYSTEM VALUE SELECT tx, position, job, version, type, record, event_id"
        // The second member has everything: the failover goes unnoticed.
        try await members[1].createSchema()
        try server.sql("INSERT INTO second \(copy) FROM first")
        try server.sql("SELECT setval(pg_get_serial_sequence('second', 'position'), (SELECT max(position) FROM second))")
        log.failOver()
        let sixth = try await node.append(Event(job: "j", type: .heartbeat, data: #"{"i":6}"#))
        #expect(sixth.state.version == 6 && node.maintenance.followerStatus()?.lastError == nil && node.maintenance.followerStatus()?.stopped == false)
        // The third lacks the last event the replica applied.
        try await members[2].createSchema()
        try server.sql("INSERT INTO third \(copy) FROM second WHERE position < (SELECT max(position) FROM second)")
        try server.sql("SELECT setval(pg_get_serial_sequence('third', 'position'), (SELECT max(position) FROM second))")
        log.failOver()
        _ = await eventually { node.maintenance.followerStatus()?.stopped == true }
        var error = node.maintenance.followerStatus()?.lastError
        #expect(error?.contains("no longer holds the last event this replica applied") == true, "\(error ?? "no error")")
        #expect(node.maintenance.followerStatus()?.stopped == true)
        await #expect(throws: JournalError.self) { _ = try await node.append(Event(job: "j", type: .heartbeat)) }
        #expect(try node.maintenance.lastSeq() == 6, "nothing applied after the divergence")
        // Reopened, the node checks its stored cursor before it applies anything (by position: the
        // last event's id is known only to the process that applied it).
        node.close()
        let reopened = try Logbook.open(at: dir.file("node.journal"), options: options)
        defer { reopened.close() }
        _ = await eventually { reopened.maintenance.followerStatus()?.stopped == true }
        error = reopened.maintenance.followerStatus()?.lastError
        #expect(error?.contains("no longer holds the last event this replica applied (tx") == true, "\(error ?? "no error")")
        #expect(try reopened.maintenance.lastSeq() == 6)
        for m in members { await m.shutdown() }
    }
}

/// A shared log over several logs, each the primary in turn (`failOver()` moves to the next), as a
/// cluster's members after failovers.
final class FailingOver: SharedLog {
    let members: [PostgresLog]
    let current = Mutex(0)
    init(_ members: [PostgresLog]) { self.members = members }
    var log: PostgresLog { members[current.withLock { $0 }] }
    func failOver() { current.withLock { $0 += 1 } }
    var name: String { "cluster" }
    var topology: SharedLogTopology {
        let i = current.withLock { $0 }
        return SharedLogTopology(members: members.map(\.name), primary: members[i].name, failovers: i)
    }
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        try await log.commit(group, retry: retry)
    }
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        try await log.read(after: cursor, limit: limit)
    }
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? { try await log.eventID(at: cursor) }
    func commitNotifications() -> AsyncStream<Void> { AsyncStream { _ in } }
    func shutdown() async {}
}

/// A shared log whose first `losses` commits reach the log but lose their answer, as when the
/// connection dies during COMMIT.
struct LosingAcknowledgements: SharedLog {
    let log: PostgresLog
    let losses: Losses
    var name: String { log.name }
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        let results = try await log.commit(group, retry: retry)
        if losses.take() { throw .outcomeUnknown("connection lost during COMMIT (test)") }
        return results
    }
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        try await log.read(after: cursor, limit: limit)
    }
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? { try await log.eventID(at: cursor) }
    func commitNotifications() -> AsyncStream<Void> { log.commitNotifications() }
    func shutdown() async { await log.shutdown() }
}

final class Losses: Sendable {
    private let left: Mutex<Int>
    init(_ n: Int) { left = Mutex(n) }
    var remaining: Int { left.withLock { $0 } }
    /// True while losses remain (and counts one off).
    func take() -> Bool {
        left.withLock { n in
            guard n > 0 else { return false }
            n -= 1
            return true
        }
    }
}
