import Lifecycle
import PropertyBased
import Testing

/// Turns random integers into plausible event streams over three jobs, two nodes and three holders,
/// with attempts that are sometimes stale, so every rule of the fold gets exercised.
func events(from seeds: [Int]) -> [Event] {
    seeds.enumerated().map { i, n in
        let n = abs(n)
        let type = EventType.allCases[n % EventType.allCases.count]
        let attempt = (n / 216) % 4
        return Event(
            job: "job-\((n / 12) % 3)", type: type, at: Timestamp(seconds: Int64(i * 10 + (n / 1000) % 25)),
            node: ["node-a", "node-b"][(n / 36) % 2], holder: ["u1", "u2", "u3"][(n / 72) % 3],
            reason: n % 5 == 0 ? "r\(n % 7)" : nil, index: UInt64(n % 100), attempt: attempt == 0 ? nil : UInt32(attempt))
    }
}

let eventSeeds = Gen.int(in: 0...1_000_000).array(of: 0...80)

@Suite struct FoldPropertyTests {
    @Test func sameEventsGiveTheSameState() async {
        await propertyCheck(input: eventSeeds) { seeds in
            let recorded = record(events(from: seeds))
            var a = Projections()
            var b = Projections()
            for e in recorded { a.apply(e) }
            for e in recorded { b.apply(e) }
            #expect(a == b)
            for state in a.states {
                let job = ExactID(state.job)
                #expect(Fold.state(of: job.string, recorded.filter { ExactID($0.event.job) == job }) == state)
            }
        }
    }

    @Test func afterATerminalEventNoSuffixChangesStatusOrDecidedBy() async {
        await propertyCheck(input: eventSeeds, eventSeeds) { prefixSeeds, suffixSeeds in
            let prefix = events(from: prefixSeeds).map { e -> Event in var e = e; e.job = "j"; return e }
            let suffix = events(from: suffixSeeds).map { e -> Event in var e = e; e.job = "j"; return e }
            let all = record(prefix + [ev(.failed, reason: "boom")] + suffix)
            var state = JobState(job: "j")
            var decided: (JobStatus, UInt64?)?
            for e in all {
                Fold.apply(e, to: &state)
                if let (status, by) = decided {
                    #expect(state.status == status)
                    #expect(state.decidedBy == by)
                } else if state.terminal {
                    decided = (state.status, state.decidedBy)
                }
            }
            #expect(decided != nil)
        }
    }

    @Test func incrementalProjectionsEqualAFoldFromScratch() async {
        await propertyCheck(input: eventSeeds) { seeds in
            let recorded = record(events(from: seeds))
            var incremental = Projections()
            for (i, e) in recorded.enumerated() {
                incremental.apply(e)
                // At every step the indexes equal ones built in one pass from freshly folded states.
                let prefix = recorded[...i]
                var states: [JobState] = []
                for job in Set(prefix.map { ExactID($0.event.job) }) {
                    states.append(Fold.state(of: job.string, prefix.filter { ExactID($0.event.job) == job }))
                }
                #expect(incremental == Projections(states: states, coveredSeq: e.seq))
            }
        }
    }

    @Test func queriesAgreeWithTheirDefinition() async {
        await propertyCheck(input: eventSeeds, Gen.int(in: 0...900), Gen.int(in: 0...300)) { seeds, nowSeconds, forSeconds in
            var projections = Projections()
            for e in record(events(from: seeds)) { projections.apply(e) }
            let now = Timestamp(seconds: Int64(nowSeconds))
            let span = Int64(forSeconds) * 1_000_000
            let queries = [
                JobQuery(), JobQuery(statuses: [.running]), JobQuery(statuses: [.cancelled, .interrupted]),
                JobQuery(resumable: true), JobQuery(unfinalized: true), JobQuery(node: "node-a"),
                JobQuery(statuses: [.running], node: "node-b"), JobQuery(silentFor: span, now: now),
                JobQuery(stalledFor: span, now: now), JobQuery(node: "node-a", silentFor: span, now: now),
            ]
            for q in queries {
                let expected = projections.states.filter(q.matches).map { ExactID($0.job) }.sorted().map(\.string)
                #expect(projections.jobs(q).map(\.job) == expected, "\(q)")
            }
        }
    }

    /// The in-place path (a borrowed `EventView`, strings made only when the fold asks) folds exactly
    /// like the owned one, event by event and through the bulk `Replay`.
    @Test func viewsFoldLikeOwnedEvents() async {
        await propertyCheck(input: eventSeeds) { seeds in
            let recorded = record(events(from: seeds))
            var owned = Projections()
            var viewed = Projections()
            var replay = Projections.Replay()
            for e in recorded {
                let a = owned.apply(e)
                let b = withView(of: e) { viewed.apply($0) }
                #expect(a == b)
                withView(of: e) { replay.fold($0) }
                #expect(owned == viewed)
            }
            #expect(replay.finish() == owned)
        }
    }

    /// The look-ahead batches of a full replay, and folds given a job-key hint (right or wrong),
    /// give the same projections as folding event by event.
    @Test func batchedAndHintedReplaysFoldLikeOneByOne() async {
        await propertyCheck(input: eventSeeds, Gen.int(in: 1...9)) { seeds, batch in
            let recorded = record(events(from: seeds))
            var owned = Projections()
            for e in recorded { owned.apply(e) }
            var batched = Projections.Replay()
            var hinted = Projections.Replay()
            withViews(of: recorded) { views in
                var i = 0
                while i < views.count {
                    let n = min(batch, views.count - i)
                    views[i..<(i + n)].withUnsafeBufferPointer { batched.fold(batch: $0) }
                    i += n
                }
                for (k, view) in views.enumerated() { hinted.fold(view, hint: UInt32(k % 4)) }  // mostly wrong hints
            }
            #expect(batched.finish() == owned)
            #expect(hinted.finish() == owned)
        }
    }
}

/// Calls `body` with views of all of `events` at once, over bytes that live until it returns.
func withViews<R>(of events: [RecordedEvent], _ body: ([EventView]) -> R) -> R {
    let texts = events.map { e in [e.event.job, e.event.node, e.event.holder, e.event.reason, e.event.data].map { $0.map { Array($0.utf8) } } }
    let total = texts.joined().reduce(0) { $0 + ($1?.count ?? 0) }
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
    defer { storage.deallocate() }
    var offset = 0
    func place(_ t: [UInt8]?) -> UnsafeRawBufferPointer? {
        guard let t else { return nil }
        let slice = UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + t.count)])
        slice.copyBytes(from: t)
        offset += t.count
        return UnsafeRawBufferPointer(slice)
    }
    let views = zip(events, texts).map { e, t in
        EventView(
            seq: e.seq, version: e.version, type: e.event.type, at: e.at, appendedAt: e.appendedAt,
            attempt: e.event.attempt, index: e.event.index, job: place(t[0])!, nodeBytes: place(t[1]),
            holderBytes: place(t[2]), reasonBytes: place(t[3]), dataBytes: place(t[4]))
    }
    return body(views)
}

/// Calls `body` with a view of `e` over bytes laid out apart from its strings.
func withView<R>(of e: RecordedEvent, _ body: (EventView) -> R) -> R {
    let texts = [e.event.job, e.event.node, e.event.holder, e.event.reason, e.event.data].map { $0.map { Array($0.utf8) } }
    let joined = texts.flatMap { $0 ?? [] }
    return joined.withUnsafeBytes { raw in
        var offset = 0
        var slices: [UnsafeRawBufferPointer?] = []
        for t in texts {
            guard let t else {
                slices.append(nil)
                continue
            }
            slices.append(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + t.count)]))
            offset += t.count
        }
        let view = EventView(
            seq: e.seq, version: e.version, type: e.event.type, at: e.at, appendedAt: e.appendedAt,
            attempt: e.event.attempt, index: e.event.index, job: slices[0]!, nodeBytes: slices[1], holderBytes: slices[2],
            reasonBytes: slices[3], dataBytes: slices[4])
        #expect(view.recorded == e)
        return body(view)
    }
}
