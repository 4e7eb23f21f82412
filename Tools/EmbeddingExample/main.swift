// The embedding example of the README, compiled by every build and run by the CLI tests.
import Foundation
import Logbook

func example(path: String) async throws {
    // README example starts
    let logbook = try Logbook.open(at: path)
    defer { logbook.close() }

    // A worker starts a scan; a user cancels it; the worker's next heartbeat learns it at once.
    _ = try await logbook.append(Event(job: "scan-3", type: .started, node: "node-a", attempt: 1))
    _ = try await logbook.append(Event(job: "scan-3", type: .cancelled, reason: "cancelled by user"))
    let beat = try await logbook.append(Event(job: "scan-3", type: .heartbeat, attempt: 1))
    if beat.state.terminal { print("worker stops: scan-3 is \(beat.state.status)") }

    // A reconciler writes with the version it read: a stale view is refused, never applied.
    do {
        _ = try await logbook.append(Event(job: "scan-3", type: .interrupted), expectedVersion: 1)
    } catch {
        print("stale write refused: \(error)")  // version conflict: expected version 1, actual version 3
    }
    print("resumable:", logbook.jobs(JobQuery(resumable: true)).map(\.job))  // never the cancelled scan
    // README example ends
}

let path = NSTemporaryDirectory() + "example-\(getpid()).journal"
try await example(path: path)
for suffix in ["", "-lock", "-owners"] { try? FileManager.default.removeItem(atPath: path + suffix) }
