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
