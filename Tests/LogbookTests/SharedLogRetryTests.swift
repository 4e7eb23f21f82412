import ConcurrencyKit
import Journal
import Logbook
import Synchronization
import TestSupport
import Testing

/// What an append through a shared log answers after its retries (docs/scale-out.md): once any
/// attempt's outcome was unknown, a later "unavailable" must not turn the answer into "nothing was
/// stored", or the client's retry would store the events twice.
@Suite struct SharedLogRetryTests {
    /// One row per sequence of attempt failures: whether the final answer must say "outcome unknown".
    @Test(arguments: [
        ([SharedLogError.unavailable("down")], false),
        ([.outcomeUnknown("lost the answer")], true),
        ([.outcomeUnknown("lost the answer"), .unavailable("down")], true),
        ([.unavailable("down"), .outcomeUnknown("lost the answer"), .unavailable("down")], true),
        ([.outcomeUnknown("lost the answer"), .failed("syntax error")], true),
        ([.failed("syntax error")], false),
    ])
    func anUnknownOutcomeStaysUnknown(failures: [SharedLogError], unknown: Bool) async throws {
        let log = FailingCommits(failures)
        let dir = TemporaryDirectory("retry")
        defer { dir.cleanup() }
        var options = testOptions()
        options.create = true
        options.sharedLog = log
        options.sharedLogRetryWindow = .seconds(3600)  // the attempts end when the stand-in runs out of answers
        options.warn = { _ in }
        let logbook = try Logbook.open(at: dir.file("replica.journal"), options: options)
        defer { logbook.close() }
        do throws(JournalError) {
            _ = try await logbook.append(Event(job: "a", type: .created))
            Issue.record("stored")
        } catch {
            guard case .sharedLog(let detail) = error else {
                Issue.record("answered \(error)")
                return
            }
            #expect(detail.contains("outcome is unknown") == unknown, "\(detail)")
            #expect(detail.contains("may be stored") == unknown, "\(detail)")
        }
    }
}

/// A shared log whose commits fail with the given errors, one per attempt; once they are used up it
/// answers a final `failed`, which ends the retries. Reads find nothing.
final class FailingCommits: SharedLog {
    private let failures: Mutex<[SharedLogError]>
    init(_ failures: [SharedLogError]) { self.failures = Mutex(failures) }
    var name: String { "failing-test" }
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        let next = failures.withLock { f -> SharedLogError in
            f.isEmpty ? .failed("no more answers (test)") : f.removeFirst()
        }
        throw next
    }
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] { [] }
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? { nil }
    func commitNotifications() -> AsyncStream<Void> { AsyncStream { _ in } }
    func shutdown() async {}
}

/// A retry through a node that has not applied the first request's events yet: the shared log
/// skips the batch as stored, the node waits for those events, and answers them as a replay (the
/// records carry the first request's append time, not this one's).
@Suite struct SharedLogReplayTests {
    @Test func aRetryStoredByAnotherNodeIsAnsweredAsAReplay() async throws {
        let log = MemoryLog()
        let dir = TemporaryDirectory("replay")
        defer { dir.cleanup() }
        func node(_ name: String, at seconds: Int64) throws -> Logbook {
            var options = testOptions(clock: { t(seconds) })
            options.sharedLog = log
            options.sharedLogPollInterval = .seconds(3600)  // reads only when its own commits ring
            options.foreignAppendPollInterval = nil
            return try Logbook.open(at: dir.file(name), options: options)
        }
        let a = try node("a.journal", at: 10)
        defer { a.close() }
        let b = try node("b.journal", at: 20)
        defer { b.close() }
        try await b.catchUp()  // b's follower has read the empty log: it reads again only when rung
        let ids = [EventID.random(), EventID.random()]
        let batch = ids.enumerated().map { i, id in AppendItem(Event(job: "j", type: i == 0 ? .created : .heartbeat, id: id)) }
        let first = try await a.append(batch)
        #expect(!first.replayed && first.seqs == [1, 2])
        let retry = try await b.append(batch)
        #expect(retry.replayed, "stored by node a's request, not by this one")
        #expect(retry.seqs == [1, 2] && retry.events.map(\.appendedAt) == [t(10), t(10)])
        #expect(log.rowCount == 2, "stored once")
        // A new batch through b is b's own: not a replay.
        let own = try await b.append([AppendItem(Event(job: "j", type: .heartbeat, id: .random()))])
        #expect(!own.replayed && own.seqs == [3])
    }
}

extension SharedLogReplayTests {
    /// A client's retry that reaches the node while its first attempt is still in flight awaits the
    /// same ids: both are answered once the events are applied, the first as stored, the retry as a
    /// replay. (The retry's registration replaced the first's, which then waited for ever.)
    @Test(.timeLimit(.minutes(1))) func aRetryRacingItsFirstAttemptOnOneNodeAnswersBoth() async throws {
        let log = GatedLog(MemoryLog())
        let dir = TemporaryDirectory("racing-retry")
        defer { dir.cleanup() }
        let tick = Shared(Int64(0))
        var options = testOptions(clock: { t(tick.update { $0 += 1; return $0 }) })
        options.sharedLog = log
        options.foreignAppendPollInterval = nil
        let node = try Logbook.open(at: dir.file("node.journal"), options: options)
        defer { node.close() }
        let batch = [AppendItem(Event(job: "j", type: .created, id: .random()))]
        let first = Task { try await node.append(batch) }
        #expect(await eventually(timeout: 30) { log.entered.value >= 1 }, "the first attempt's commit is in flight")
        let retry = Task { try await node.append(batch) }
        #expect(await eventually(timeout: 30) { node.maintenance.followerStatus()?.waitingAppends == 2 }, "both wait")
        log.open()
        let (a, b) = (try await first.value, try await retry.value)
        #expect(!a.replayed && b.replayed)
        #expect(a.seqs == [1] && b.seqs == [1])
        #expect(log.base.rowCount == 1, "stored once")
    }
}

/// A shared log whose commits wait until the test opens it (and count how many began).
final class GatedLog: SharedLog {
    let base: MemoryLog
    let entered = Shared(0)
    private let gate = OneShot<Void>()
    init(_ base: MemoryLog) { self.base = base }
    func open() { gate.fulfil(()) }
    var name: String { base.name }
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        entered.update { $0 += 1 }
        await gate.value
        return try await base.commit(group, retry: retry)
    }
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        try await base.read(after: cursor, limit: limit)
    }
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? { try await base.eventID(at: cursor) }
    func commitNotifications() -> AsyncStream<Void> { base.commitNotifications() }
    func shutdown() async {}
}

/// A shared log in memory: a commit stores the batches whose ids are not there yet (a batch whose
/// ids are all stored is skipped, as the PostgreSQL commit function does on a retry), numbering
/// versions per job; reads return the rows in order.
final class MemoryLog: SharedLog {
    private let rows = Mutex<[SharedLogRow]>([])
    var name: String { "memory-test" }
    var rowCount: Int { rows.withLock { $0.count } }
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        rows.withLock { rows in
            for batch in group where !batch.allSatisfy({ entry in rows.contains { $0.id == entry.id } }) {
                for entry in batch {
                    let version = UInt64(rows.filter { row in
                        row.record.withUnsafeBytes { (try? Journal.decodeRecord(seq: 0, bytes: $0, strict: false))?.event.job } == entry.job
                    }.count + 1)
                    let n = Int64(rows.count + 1)
                    rows.append(SharedLogRow(cursor: ReplicaCursor(tx: n, position: n), version: version, record: entry.record, id: entry.id))
                }
            }
        }
        return group.map { _ in .success(()) }
    }
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        rows.withLock { rows in Array(rows.filter { cursor == nil || $0.cursor > cursor! }.prefix(limit)) }
    }
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? {
        rows.withLock { rows in rows.first { $0.cursor == cursor }?.id }
    }
    func commitNotifications() -> AsyncStream<Void> { AsyncStream { _ in } }
    func shutdown() async {}
}
