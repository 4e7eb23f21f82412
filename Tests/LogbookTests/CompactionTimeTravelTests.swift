import Logbook
import PropertyBased
import TestSupport
import Testing

/// docs/cli.md promises that `compact --drop-superseded-heartbeats` changes time travel by clock in
/// `lastHeartbeatAt` (and the version of the prefix) only, whatever the writers' clocks did. A property over random journals whose
/// `at` stamps go backwards now and then.
@Suite struct CompactionTimeTravelTests {
    @Test func statusAtAnyTimeIsUnchangedByCompactionButForLastHeartbeat() async {
        await propertyCheck(count: 30, input: Gen.int(in: 0...1_000_000).array(of: 1...60)) { seeds in
            await check(seeds)
        }
    }

    /// One journal from `seeds`: a failing input reported by `propertyCheck` can be replayed here.
    private func check(_ seeds: [Int]) async {
        let types: [EventType] = [.heartbeat, .heartbeat, .heartbeat, .progress, .started, .completed, .created]
        let events = seeds.enumerated().map { i, n in
            // Mostly increasing times; every fourth seed steps the clock back.
            let skew: Int64 = n % 4 == 0 ? -Int64(n % 50) : 0
            return e("j\(n % 2)", types[(n / 7) % types.count], at: Int64(i * 10) + skew, node: "n")
        }
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("c.journal")
        do {
            let times = Set(events.compactMap(\.at).flatMap { [$0.adding(microseconds: -1), $0, $0.adding(microseconds: 1)] })
            let before: [[JobState?]]
            do {
                let logbook = try Logbook.open(at: path, options: testOptions())
                _ = try await logbook.append(events)
                before = try states(logbook, at: times.sorted())
                logbook.close()
            }
            _ = try Logbook.compact(at: path, dropSupersededHeartbeats: true, dryRun: false)
            let logbook = try Logbook.open(at: path, options: testOptions())
            defer { logbook.close() }
            let after = try states(logbook, at: times.sorted())
            let first = zip(before.joined(), after.joined()).first { $0 != $1 }
            #expect(before == after, "first difference: \(String(describing: first))")
        } catch {
            Issue.record("appending, compacting or reopening failed: \(error)")
        }
    }

    /// Each job's state as of each time, with the fields compaction may change blanked: `lastHeartbeatAt`,
    /// and `version` (that of the prefix's last stored event, which may be a dropped heartbeat).
    private func states(_ logbook: Logbook, at times: [Timestamp]) throws -> [[JobState?]] {
        try ["j0", "j1"].map { job in
            try times.map { t in
                var s = try logbook.state(of: job, asOf: t)
                s?.lastHeartbeatAt = nil
                s?.version = 0
                return s
            }
        }
    }
}
