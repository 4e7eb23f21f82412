// A worker in another process than its journal: `logbook serve` keeps the jobs, and this program
// runs them over HTTP with LogbookClient's RemoteLogbook. Run it as `RemoteWorkerExample URL`.
import Foundation
import LogbookClient

let url = URL(string: CommandLine.arguments.dropFirst().first ?? "http://127.0.0.1:8080")!
let logbook = RemoteLogbook(url: url, token: ProcessInfo.processInfo.environment["LOGBOOK_TOKEN"])
guard try await logbook.state(of: "fetch-1") == nil else {
    print("the service already holds this demo's jobs: run it against a new journal")
    exit(1)
}

// Every append carries event ids: sent twice (a retry after a timeout, say), it is stored once.
let created = Event(job: "fetch-1", type: .created, id: EventID(uuid: "7d444840-9dc0-41d1-b245-5ffdce74fad2"))
let first = try await logbook.append(created)
let again = try await logbook.append(created)
print("fetch-1 created at seq \(first.seqs[0]); sent again: replayed \(again.replayed), seq \(again.seqs[0])")

// The embedded Logbook.run's loop, over HTTP: start, heartbeats, `completed` when the body returns.
let done = try await logbook.run(job: "fetch-1", node: "worker-a", heartbeatEvery: .seconds(5)) { job in
    for part in 0..<3 { try await job.progress(index: UInt64(part)) }
}
print("fetch-1: \(done.status) at part \(done.index!)")

// A cancel from anywhere (here this program, as an operator's `logbook cancel` would) reaches the
// body through the job's event stream: its task is cancelled and the run appends nothing more.
let fetch = Task {
    try await logbook.run(job: "fetch-2", node: "worker-a", heartbeatEvery: .seconds(5)) { _ in
        while true { try await Task.sleep(for: .milliseconds(20)) }
    }
}
while try await logbook.state(of: "fetch-2")?.status != .running { try await Task.sleep(for: .milliseconds(20)) }
_ = try await logbook.append(Event(job: "fetch-2", type: .cancelled, reason: "cancelled by user"))
let cancelled = try await fetch.value
print("fetch-2: \(cancelled.status) (\(cancelled.decidedReason ?? ""))")
print("running now:", try await logbook.jobs(JobQuery(statuses: [.running])).map(\.job))
