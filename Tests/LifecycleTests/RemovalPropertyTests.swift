import Lifecycle
import PropertyBased
import Testing

/// Jobs removed whole from the log (an online archive) and folded again (`Projections.refold`):
/// the projections then equal a fold of what the log holds, whatever the order in which the
/// removal and later events (some creating a removed job anew) reach them.
@Suite struct RemovalPropertyTests {
    /// `events(from:)` spread over eight jobs, so removals hit the first, middle and last keys.
    static func spread(_ seeds: [Int]) -> [Event] {
        events(from: seeds).enumerated().map { i, e in
            var e = e
            e.job = "job-\((abs(seeds[i]) / 7) % 8)"
            return e
        }
    }

    /// Seqs from `firstSeq`, versions continuing `versions` (a removed job starts again at 1).
    static func recordContinuing(_ events: [Event], from firstSeq: UInt64, versions: inout [String: UInt64]) -> [RecordedEvent] {
        events.enumerated().map { i, e in
            let v = (versions[e.job] ?? 0) + 1
            versions[e.job] = v
            return RecordedEvent(seq: firstSeq + UInt64(i), version: v, appendedAt: e.at ?? Timestamp(seconds: 0), event: e)
        }
    }

    @Test func refoldingRemovedJobsEqualsAFoldOfWhatRemains() async {
        await propertyCheck(input: eventSeeds, Gen.int(in: 0...255), eventSeeds, Gen.int(in: 0...80)) { seeds, mask, laterSeeds, cut in
            var versions: [String: UInt64] = [:]
            let first = Self.recordContinuing(Self.spread(seeds), from: 1, versions: &versions)
            let removed = Set((0..<8).filter { mask & (1 << $0) != 0 }.map { "job-\($0)" })
            for job in removed { versions[job] = nil }
            let later = Self.recordContinuing(Self.spread(laterSeeds), from: UInt64(first.count + 1), versions: &versions)
            let remaining = first.filter { !removed.contains($0.event.job) } + later

            var truth = Projections()
            for e in remaining { truth.apply(e) }
            // Projections that knew the removed jobs, then learn of the removal after `cut` of the
            // later events: each removed job is folded again from what the log holds up to there.
            var live = Projections()
            for e in first { live.apply(e) }
            let before = min(cut, later.count)
            for e in later[..<before] { live.apply(e) }
            for job in removed.sorted() {
                live.refold(job, from: remaining.filter { $0.event.job == job && $0.seq <= live.coveredSeq })
            }
            for e in later[before...] { live.apply(e) }
            // Both have seen the log up to its last seq, whichever events of it were removed.
            let last = UInt64(first.count + later.count)
            truth.cover(through: last)
            live.cover(through: last)
            #expect(live == truth)
            for q in [JobQuery(), JobQuery(statuses: [.running]), JobQuery(unfinalized: true), JobQuery(node: "node-a")] {
                #expect(live.jobs(q).map(\.job) == truth.jobs(q).map(\.job), "\(q)")
            }
        }
    }

    /// Forgetting every job one by one leaves empty projections that fold anew like fresh ones.
    @Test func forgettingEveryJobLeavesNothing() async {
        await propertyCheck(input: eventSeeds) { seeds in
            let recorded = record(Self.spread(seeds))
            var p = Projections()
            for e in recorded { p.apply(e) }
            for job in Set(recorded.map(\.event.job)).sorted(by: >) { p.refold(job, from: []) }
            #expect(p.jobCount == 0)
            #expect(p.jobs(JobQuery()).isEmpty)
            #expect(p.statusCounts.isEmpty)
            #expect(p.anomalyTotal == 0)
        }
    }

    /// Many jobs, so the key table's probe chains are long and removals shift entries back across
    /// them: every remaining job is still found by its id, no removed one is.
    @Test func everyRemainingJobIsFoundAfterManyRemovals() async {
        await propertyCheck(input: Gen.int(in: 0...1_000_000).array(of: 1...400)) { picks in
            var p = Projections()
            for i in 0..<600 {
                p.apply(RecordedEvent(seq: UInt64(i + 1), version: 1, appendedAt: Timestamp(seconds: 0), event: ev(.created, job: "j\(i)")))
            }
            var gone = Set<Int>()
            for n in picks {
                let i = n % 600
                p.refold("j\(i)", from: [])
                gone.insert(i)
            }
            for i in 0..<600 {
                #expect((p.state(of: "j\(i)") == nil) == gone.contains(i), "j\(i)")
            }
            #expect(p.jobCount == 600 - gone.count)
            #expect(p.jobs(JobQuery(statuses: [.pending])).count == 600 - gone.count)
        }
    }
}
