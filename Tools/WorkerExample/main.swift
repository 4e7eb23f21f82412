// Sources/worker/main.swift in a package set up like the scanner above: workers under `Logbook.run`,
// and a drainer that runs each finished job's side effects once.
import Foundation
import Logbook

struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full" } }

let logbook = try Logbook.open(at: "worker.journal")
guard logbook.state(of: "crawl-1") == nil else {
    print("worker.journal already holds this demo's jobs: delete it to run the demo again")
    exit(1)
}
let files = (0..<1_000).map { "file-\($0)" }

// crawl-1 runs until a user cancels it: its body's task is cancelled and the run appends nothing more.
let crawl = Task {
    try await logbook.run(job: "crawl-1", node: "node-a", heartbeatEvery: .seconds(5)) { job in
        for (i, _) in files.enumerated() {
            try await job.progress(index: UInt64(i))  // throws CancellationError once the job is decided elsewhere
            try await Task.sleep(for: .milliseconds(10))  // the work on one file; it honours cancellation too
        }
    }
}
for await state in logbook.changes(of: "crawl-1") where (state.index ?? 0) >= 3 { break }
_ = try await logbook.append(Event(job: "crawl-1", type: .cancelled, reason: "cancelled by user"))
let cancelled = try await crawl.value
print("crawl-1: \(cancelled.status) (\(cancelled.decidedReason ?? "")) before the last file:", cancelled.index! < 999)

// A body that returns completes its job; one that throws fails it, with the error as the reason.
let done = try await logbook.run(job: "crawl-2", node: "node-a", heartbeatEvery: .seconds(5)) { job in
    for i in 0..<3 { try await job.progress(index: UInt64(i)) }
}
print("crawl-2: \(done.status) at file \(done.index!)")
let failed = try await logbook.run(job: "crawl-3", node: "node-a", heartbeatEvery: .seconds(5)) { _ in throw DiskFull() }
print("crawl-3: \(failed.status) (\(failed.decidedReason!))")

// A decided job stays decided: running it again is refused and its body never runs.
do {
    _ = try await logbook.run(job: "crawl-1", node: "node-b", heartbeatEvery: .seconds(5)) { _ in print("never") }
} catch WorkerError.terminal(let state) {
    print("refused: \(state.job) is already \(state.status)")
}

// Each terminal job's side effects (release its slot, notify its parent) run once, even with
// several nodes draining at the same time; then the job is finalized.
let report = try await logbook.drainFinalizations(holder: "node-a", lease: .seconds(60)) { state in
    print("release the slot of \(state.job) (\(state.status))")
}
print("finalized:", report.finalized, "outbox now:", logbook.jobs(JobQuery(unfinalized: true)).map(\.job))
logbook.close()
