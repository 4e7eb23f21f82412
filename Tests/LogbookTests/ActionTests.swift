import Foundation
import Logbook
import TestSupport
import Testing

/// `Logbook.act(on:_:)`, what `logbook cancel`, `interrupt` and `finalize` do: read, decide, append
/// under the version read. The race is made deterministic: the change races in from another
/// process exactly between the read and the append (inside `makeEvent`).
@Suite struct ActionTests {
    @Test func aChangeThatRacesInBetweenTheReadAndTheAppendIsRefusedAndNothingIsStored() async throws {
        try await withLogbook { logbook, path in
            _ = try await logbook.append(e("scan-3", .started, at: 0, node: "osiris", attempt: 1))
            var readVersion: UInt64?
            await #expect(throws: JournalError.versionConflict(job: "scan-3", expected: 1, actual: 2)) {
                _ = try await logbook.act(on: "scan-3") { state in
                    readVersion = state.version
                    // Another process completes the job after this one read it.
                    let other = try TestSupport.run(
                        builtExecutable("logbook"), ["--journal", path, "append", "--job", "scan-3", "--type", "completed"])
                    #expect(other.status == 0, "\(other.stderr)")
                    return Event(job: "scan-3", type: .cancelled, reason: "operator")
                }
            }
            #expect(readVersion == 1)
            try logbook.refresh()
            let state = try #require(logbook.state(of: "scan-3"))
            #expect(state.status == .completed && state.version == 2, "the cancel was not stored over the completion")
            #expect(try logbook.history(of: "scan-3").map(\.event.event.type) == [.started, .completed])
        }
    }

    @Test func withoutARaceTheActionIsAppendedUnderTheVersionRead() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.append(e("scan-3", .started, at: 0, node: "osiris", attempt: 1))
            let outcome = try await logbook.act(on: "scan-3") { _ in Event(job: "scan-3", type: .cancelled, reason: "operator") }
            #expect(outcome.events.map(\.version) == [2])
            #expect(outcome.state(of: "scan-3").status == .cancelled)
        }
    }

    @Test func anUnknownJobOrAnEventTheFoldWouldIgnoreIsRefusedBeforeAnythingIsStored() async throws {
        try await withLogbook { logbook, _ in
            await #expect(throws: Logbook.Refusal.noSuchJob("nope")) {
                _ = try await logbook.act(on: "nope") { _ in Event(job: "nope", type: .cancelled) }
            }
            _ = try await logbook.append(e("scan-3", .completed, at: 0))
            await #expect(throws: Logbook.Refusal.self) {
                _ = try await logbook.act(on: "scan-3") { _ in Event(job: "scan-3", type: .cancelled) }
            }
            #expect(logbook.state(of: "scan-3")?.version == 1, "nothing appended")
        }
    }
}
