import Logbook
import TestSupport

/// A logbook in a fresh temp directory; `noSync` since these tests are about logic, not fsync.
func withLogbook(
    snapshotEvery: Int? = nil, clock: (@Sendable () -> Timestamp)? = nil, _ body: (Logbook, String) async throws -> Void
) async throws {
    let dir = TemporaryDirectory("logbook")
    defer { dir.cleanup() }
    let path = dir.file("test.journal")
    let logbook = try Logbook.open(at: path, options: testOptions(snapshotEvery: snapshotEvery, clock: clock))
    defer { logbook.close() }
    try await body(logbook, path)
}

func testOptions(snapshotEvery: Int? = nil, clock: (@Sendable () -> Timestamp)? = nil, readOnly: Bool = false)
    -> Logbook.Options
{
    var options = Logbook.Options()
    options.durability = .noSync
    options.snapshotEvery = snapshotEvery
    options.readOnly = readOnly
    options.warn = { _ in }
    if let clock { options.clock = clock }
    return options
}

/// `2026-06-01T00:00:00Z` plus `seconds`.
func t(_ seconds: Int64) -> Timestamp { Timestamp(seconds: 1_780_272_000 + seconds) }

func e(
    _ job: String, _ type: EventType, at seconds: Int64, node: String? = nil, holder: String? = nil,
    reason: String? = nil, index: UInt64? = nil, attempt: UInt32? = nil
) -> Event {
    Event(job: job, type: type, at: t(seconds), node: node, holder: holder, reason: reason, index: index, attempt: attempt)
}
