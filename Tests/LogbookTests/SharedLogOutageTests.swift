import Journal
import Logbook
import Synchronization
import Testing
import TestSupport

/// How a node reports a shared log it cannot read (docs/scale-out.md): a command waiting to catch up
/// is told the error (and prints it); the follower warns only when nobody is told, once per outage.
/// No PostgreSQL here: the shared log is a stand-in that never answers.
@Suite struct SharedLogOutageTests {
    /// A catch-up asked while the follower's first read was under way is told that read's failure,
    /// and the follower does not warn as well (the error was printed twice: CI, 2026-12-02).
    @Test func aCatchUpAskedDuringAFailingReadIsToldAndNothingElseIsWarned() async throws {
        let log = Unreachable()
        let warnings = Warnings()
        try await withSharedLogbook(log, warnings) { logbook in
            #expect(await log.firstReadStarted.wait())
            let caughtUp = Task { try await logbook.catchUp(within: .seconds(60)) }
            #expect(await eventually { logbook.maintenance.followerStatus()?.waitingCatchUps == 1 })
            log.gate.open()
            await #expect(throws: JournalError.self) { try await caughtUp.value }
            // The follower goes on failing, but its outage was reported: it stays silent.
            #expect(await eventually { log.reads >= 20 })
            #expect(warnings.all.isEmpty, "\(warnings.all)")
        }
    }

    /// With nobody waiting (a `serve` process), an outage is warned about once, not once per retry.
    @Test func anOutageNobodyIsToldAboutIsWarnedOnce() async throws {
        let log = Unreachable()
        log.gate.open()
        let warnings = Warnings()
        try await withSharedLogbook(log, warnings) { _ in
            #expect(await eventually { warnings.all.count == 1 })
            let reads = log.reads
            #expect(await eventually { log.reads >= reads + 5 })
            #expect(warnings.all.count == 1, "\(warnings.all)")
            #expect(warnings.all.first?.contains("cannot read the shared log unreachable-test") == true)
        }
    }

    private func withSharedLogbook(_ log: Unreachable, _ warnings: Warnings, _ body: (Logbook) async throws -> Void) async throws {
        let dir = TemporaryDirectory("outage")
        defer { dir.cleanup() }
        var options = testOptions()
        options.create = true
        options.sharedLog = log
        options.warn = { warnings.add($0) }
        let logbook = try Logbook.open(at: dir.file("replica.journal"), options: options)
        defer { logbook.close() }
        try await body(logbook)
    }
}

/// A shared log that cannot be reached: each read fails, the first only once its gate opens.
final class Unreachable: SharedLog {
    let gate = Gate()
    let firstReadStarted = Gate()
    private let count = Atomic<Int>(0)
    var reads: Int { count.load(ordering: .relaxed) }
    var name: String { "unreachable-test" }
    func commit(_ group: [[SharedLogEntry]], retry: Bool) async throws(SharedLogError) -> [Result<Void, JournalError>] {
        throw .unavailable("no server (test)")
    }
    func read(after cursor: ReplicaCursor?, limit: Int) async throws(SharedLogError) -> [SharedLogRow] {
        firstReadStarted.open()
        _ = await gate.wait()
        count.add(1, ordering: .relaxed)
        throw .unavailable("no server (test)")
    }
    func eventID(at cursor: ReplicaCursor) async throws(SharedLogError) -> EventID? { throw .unavailable("no server (test)") }
    func commitNotifications() -> AsyncStream<Void> { AsyncStream { _ in } }
    func shutdown() async {}
}

/// Opens once; `wait()` returns true once it is open (false after the patient timeout).
final class Gate: Sendable {
    private let isOpen = Atomic<Bool>(false)
    func open() { isOpen.store(true, ordering: .releasing) }
    func wait() async -> Bool { await eventually { self.isOpen.load(ordering: .acquiring) } }
}

final class Warnings: Sendable {
    private let list = Mutex<[String]>([])
    func add(_ warning: String) { list.withLock { $0.append(warning) } }
    var all: [String] { list.withLock { $0 } }
}
