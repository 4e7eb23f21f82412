import Foundation
@testable import Logbook
import Lifecycle
import PropertyBased
import TestSupport
import Testing

@Suite struct LogbookTests {
    @Test func historyAndTimeTravel() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.append([
                e("j", .created, at: 0), e("j", .started, at: 10, node: "a"), e("other", .created, at: 15),
                e("j", .completed, at: 20), e("j", .heartbeat, at: 30),
            ])
            let history = try logbook.history(of: "j")
            #expect(history.map(\.event.seq) == [1, 2, 4, 5])
            #expect(history.map(\.stateAfter.status) == [.pending, .running, .completed, .completed])
            #expect(history[3].anomaly?.message == "heartbeat after completed at seq 4: ignored")
            #expect(try logbook.state(of: "j", throughSeq: 3)?.status == .running)
            #expect(try logbook.state(of: "j", throughSeq: 0) == nil)
            #expect(try logbook.state(of: "j", asOf: t(19))?.status == .running)
            #expect(try logbook.state(of: "j", asOf: t(25))?.status == .completed)
            #expect(logbook.state(of: "nope") == nil)
        }
    }

    @Test func reopenUsesTheSnapshotAndFoldsOnlyTheTail() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("s.journal")
        var expected: Projections
        do {
            let logbook = try Logbook.open(at: path, options: testOptions())
            _ = try await logbook.append((0..<50).map { e("job-\($0 % 5)", .heartbeat, at: Int64($0)) })
            #expect(try await logbook.snapshot() == 50)
            _ = try await logbook.append([e("job-1", .started, at: 100), e("job-9", .created, at: 101)])
            expected = logbook.currentProjections
            logbook.close()
        }
        let reopened = try Logbook.open(at: path, options: testOptions())
        defer { reopened.close() }
        #expect(reopened.openReport.snapshotSeq == 50)
        #expect(reopened.openReport.eventsFolded == 2)
        #expect(reopened.currentProjections == expected)
    }

    @Test func damagedOrForeignSnapshotsFallBackToAFullReplayWithAWarning() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("s.journal")
        let logbook = try Logbook.open(at: path, options: testOptions())
        _ = try await logbook.append((0..<20).map { e("job-\($0 % 3)", .created, at: Int64($0)) })
        let expected = logbook.currentProjections
        try await logbook.snapshot()
        let good = try #require(try logbook.journal.latestSnapshot())
        var flipped = good.bytes
        flipped[30] ^= 0xFF
        var future = good.bytes
        future[4] = 9
        let cases: [(UInt64, [UInt8], String)] = [
            (good.seq, flipped, "checksum"), (good.seq, future, "unknown format version 9"),
            (good.seq, Array(good.bytes.prefix(10)), "damaged"), (999, good.bytes, "disagrees"),
        ]
        logbook.close()
        for (seq, bytes, why) in cases {
            let writer = try Logbook.open(at: path, options: testOptions())
            try writer.journal.storeSnapshotBlocking(seq: seq, bytes: bytes)
            writer.close()
            let warnings = Mutex<[String]>([])
            var options = testOptions(readOnly: true)
            options.warn = { w in warnings.withLock { $0.append(w) } }
            let reopened = try Logbook.open(at: path, options: options)
            #expect(reopened.openReport.snapshotSeq == nil)
            #expect(reopened.openReport.eventsFolded == 20)
            #expect(reopened.openReport.snapshotRejected?.contains(why) == true, "\(why): \(reopened.openReport)")
            #expect(warnings.withLock { $0.count } == 1)
            #expect(reopened.currentProjections == expected)
            reopened.close()
        }
    }

    @Test func automaticSnapshotsFollowTheConfiguredInterval() async throws {
        try await withLogbook(snapshotEvery: 100) { logbook, _ in
            for i in 0..<5 {
                _ = try await logbook.append((0..<60).map { k in e("job-\(k % 7)", .heartbeat, at: Int64(i * 100 + k)) })
            }
            var snapshotSeq: UInt64 = 0
            for _ in 0..<200 {
                snapshotSeq = try logbook.journal.latestSnapshot()?.seq ?? 0
                if snapshotSeq >= 240 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(snapshotSeq >= 100)
        }
    }

    @Test func followDeliversTheBacklogThenLiveEventsWithoutGapsOrRepeats() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.append((0..<5000).map { e("job-\($0 % 10)", .heartbeat, at: Int64($0)) })
            let stream = logbook.follow(after: 1234)
            let appender = Task {
                for i in 0..<50 { _ = try await logbook.append(e("live", .heartbeat, at: Int64(10_000 + i))) }
            }
            var seqs: [UInt64] = []
            for try await event in stream {
                seqs.append(event.seq)
                if event.seq == 5050 { break }
            }
            try await appender.value
            #expect(seqs == Array(1235...5050))
        }
    }

    @Test func manyConcurrentAppendersEachSeeTheirOwnState() async throws {
        try await withLogbook { logbook, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<32 {
                    group.addTask {
                        let job = "worker-\(w)"
                        let started = try await logbook.append(e(job, .started, at: 0, node: "n"))
                        #expect(started.state.status == .running)
                        for i in 1...20 {
                            let hb = try await logbook.append(e(job, .heartbeat, at: Int64(i)))
                            #expect(hb.state.version == UInt64(i + 1))
                            #expect(hb.state.lastHeartbeatAt == t(Int64(i)))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(logbook.jobs(JobQuery(statuses: [.running])).count == 32)
            #expect(logbook.currentProjections.coveredSeq == 32 * 21)
        }
    }

    @Test func eventsAppendedByAnotherProcessAreFoldedIn() async throws {
        try await withLogbook { logbook, path in
            _ = try await logbook.append(e("mine", .created, at: 0))
            let harness = try run(builtExecutable("logbook-crash-harness"), [path, "--threads", "1", "--count", "3", "--batch", "4"])
            #expect(harness.status == 0, "\(harness.stderr)")
            let after = try await logbook.append(e("mine", .started, at: 1))
            #expect(after.events[0].seq == 14)
            #expect(logbook.currentProjections.coveredSeq == 14)
            #expect(logbook.jobs().count == 4)  // mine + job-0-0, job-0-1, job-0-2
        }
    }

    /// A full replay at open (which reads ahead on a second core, slots of 1,024 records) equals
    /// the projections kept event by event, over journals spanning several slots with every event
    /// type, anomalies included, in random order over many jobs.
    @Test func aFullReplayAtOpenEqualsProjectionsKeptEventByEvent() async throws {
        let types = EventType.allCases
        await propertyCheck(count: 6, input: Gen.int(in: 1...1_000_000)) { seed in
            var random = seed
            func next(_ n: Int) -> Int {
                random = (random &* 1_103_515_245 &+ 12_345) & 0x7fff_ffff
                return (random >> 8) % n
            }
            let count = 1_500 + next(3_500)
            let events = (0..<count).map { i in
                let type = types[next(types.count)]
                return Event(
                    job: "job-\(next(300))", type: type, at: t(Int64(i)), node: "n\(next(3))",
                    holder: type.needsHolder ? "h\(next(3))" : nil, index: UInt64(i), attempt: next(4) == 0 ? 1 : nil)
            }
            let dir = TemporaryDirectory()
            defer { dir.cleanup() }
            let path = dir.file("replay.journal")
            do {
                var kept = Projections()
                do {
                    let logbook = try Logbook.open(at: path, options: testOptions())
                    for start in stride(from: 0, to: count, by: 400) {
                        _ = try await logbook.append(Array(events[start..<min(start + 400, count)]))
                    }
                    kept = logbook.currentProjections
                    logbook.close()
                }
                let reopened = try Logbook.open(at: path, options: testOptions(readOnly: true))
                defer { reopened.close() }
                #expect(reopened.openReport.snapshotSeq == nil && reopened.openReport.eventsFolded == count)
                #expect(reopened.currentProjections == kept)
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func snapshotPlusTailEqualsAFullReplayAtEveryCut() async throws {
        let recorded = (0..<120).map { i -> Event in
            let types: [EventType] = [.created, .started, .heartbeat, .progress, .interrupted, .resumed, .completed,
                                      .refAcquired, .refReleased, .finalized, .cancelled, .failed]
            return Event(job: "job-\(i % 4)", type: types[(i * 7) % types.count], at: t(Int64(i)), node: "n\(i % 2)",
                         holder: "h\(i % 3)", index: UInt64(i), attempt: i % 5 == 0 ? 1 : nil)
        }
        await propertyCheck(count: 25, input: Gen.int(in: 0...120)) { cut in
            let dir = TemporaryDirectory()
            defer { dir.cleanup() }
            let path = dir.file("cut.journal")
            do {
                let logbook = try Logbook.open(at: path, options: testOptions())
                if cut > 0 { _ = try await logbook.append(Array(recorded[..<cut])) }
                try await logbook.snapshot()
                if cut < recorded.count { _ = try await logbook.append(Array(recorded[cut...])) }
                logbook.close()
                let reopened = try Logbook.open(at: path, options: testOptions(readOnly: true))
                defer { reopened.close() }
                #expect(reopened.openReport.snapshotSeq == UInt64(cut))
                var full = Projections()
                for e in try reopened.journal.events(from: 1) { full.apply(e) }
                #expect(reopened.currentProjections == full)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}

import Synchronization

/// The job-state JSON is written straight into bytes (`appendJSON`, what the service answers each
/// append with) and also spelled field by field (`jsonFields`, what `replay` and `tail` diff): the
/// two must be one encoding, over states with every field set or unset, texts needing escapes,
/// claims, refs and anomalies.
@Suite struct JobStateJSONTests {
    @Test func theWrittenObjectIsTheObjectOfItsFields() async throws {
        let types = EventType.allCases
        let texts = ["plain", "quote \" and \\ back", "line\nbreak\ttab\u{1}", "ünïcødé ✓", ""]
        await propertyCheck(count: 8, input: Gen.int(in: 1...1_000_000)) { seed in
            var random = seed
            func next(_ n: Int) -> Int {
                random = (random &* 1_103_515_245 &+ 12_345) & 0x7fff_ffff
                return (random >> 8) % n
            }
            let events = (0..<400).map { i in
                let type = types[next(types.count)]
                let node = next(3) == 0 ? nil : texts[next(texts.count)] + "n"
                let reason = next(2) == 0 ? nil : "r " + texts[next(texts.count)]
                return Event(
                    job: "job \(next(40)) " + texts[next(texts.count)], type: type, at: t(Int64(i * 1_000 + next(999))),
                    node: node, holder: type.needsHolder ? "h" + texts[next(texts.count)] : nil, reason: reason,
                    index: next(2) == 0 ? UInt64(next(1_000_000)) : nil, attempt: next(4) == 0 ? UInt32(1 + next(3)) : nil)
            }
            let dir = TemporaryDirectory()
            defer { dir.cleanup() }
            do {
                let logbook = try Logbook.open(at: dir.file("json.journal"), options: testOptions())
                defer { logbook.close() }
                _ = try await logbook.append(events)
                let states = logbook.jobs()
                #expect(states.count > 20)
                for state in states {
                    #expect(state.json == JSONText.object(state.jsonFields.map { ($0.0, $0.1) }))
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
