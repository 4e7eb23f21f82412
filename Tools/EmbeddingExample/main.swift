// Sources/scanner/main.swift in a new package: `swift package init --type executable --name scanner`,
// then add Logbook to Package.swift as shown below, and `swift run`.
import Logbook

// The journal is one file (plus two small lock files beside it); this one goes in the current directory.
let logbook = try Logbook.open(at: "scanner.journal")

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
logbook.close()
