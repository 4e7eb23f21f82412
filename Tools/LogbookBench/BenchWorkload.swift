import Logbook

#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's synthetic journal: events spread over `jobs` jobs, about 100 bytes per record.
enum BenchWorkload {
    static let jobs = 100_000

    /// Event `i` of the workload (deterministic). Consecutive events stride through the jobs, so
    /// each job's first event is its `started`; after that, nine heartbeats for every progress.
    static func event(_ i: Int) -> Event {
        let job = (i &* 7919) % jobs
        let type: EventType = i < jobs ? .started : (i % 10 == 0 ? .progress : .heartbeat)
        return Event(
            job: "job-" + pad(job), type: type, at: Timestamp(seconds: 1_780_272_000 + Int64(i / 1000)),
            node: type == .started ? "node-\(job % 4)" : nil, index: UInt64(i),
            data: "{\"bytes\":\(i &* 131 % 1_000_000),\"part\":\"p-\(i % 977)\"}")
    }

    static func pad(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 5 - s.count)) + s
    }

    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `body` and returns its wall time in seconds.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = seconds()
        try body()
        return seconds() - start
    }

    static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = seconds()
        try await body()
        return seconds() - start
    }
}
