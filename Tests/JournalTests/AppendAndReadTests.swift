@testable import Journal
import Lifecycle
import TestSupport
import Testing
import Foundation

@Suite struct AppendAndReadTests {
    func withJournal(_ options: Journal.Options = .init(), _ body: (Journal, String) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("test.journal")
        let journal = try Journal.open(at: path, options: options)
        defer { journal.close() }
        try await body(journal, path)
    }

    @Test func batchGetsContiguousSeqsAndPerJobVersions() async throws {
        try await withJournal { journal, _ in
            let stored = try await journal.append([
                AppendItem(Event(job: "a", type: .created)),
                AppendItem(Event(job: "b", type: .created)),
                AppendItem(Event(job: "a", type: .started, node: "n1")),
            ])
            #expect(stored.map(\.seq) == [1, 2, 3])
            #expect(stored.map(\.version) == [1, 1, 2])
            #expect(try journal.lastSeq() == 3)
            #expect(try journal.eventCount() == 3)
            #expect(try journal.version(of: "a") == 2)
            #expect(try journal.version(of: "zzz") == 0)
            let a = try journal.events(ofJob: "a")
            #expect(a.map(\.seq) == [1, 3])
            #expect(a[1].event.node == "n1")
            #expect(try journal.events(ofJob: "a", throughSeq: 2).map(\.seq) == [1])
        }
    }

    @Test func everyFieldRoundTrips() async throws {
        try await withJournal { journal, _ in
            let event = Event(
                job: "jøb/🚀", type: .refReleased, at: Timestamp(rfc3339: "2026-06-01T10:00:00.5Z"), node: "node-a",
                holder: "user-1", reason: "user asked", index: 42, attempt: 3, data: #"{"a": [1, 2, {"b": null}]}"#)
            let stored = try await journal.append(event)
            let read = try #require(try journal.event(at: stored.seq))
            #expect(read.event == event)
            #expect(read.version == 1)
            #expect(read == stored)
        }
    }

    @Test func missingAtBecomesAppendTime() async throws {
        var options = Journal.Options()
        options.clock = { Timestamp(seconds: 1_000) }
        try await withJournal(options) { journal, _ in
            let stored = try await journal.append(Event(job: "a", type: .created))
            #expect(stored.event.at == Timestamp(seconds: 1_000))
            #expect(stored.appendedAt == Timestamp(seconds: 1_000))
        }
    }

    @Test func versionConflictRejectsTheWholeBatch() async throws {
        try await withJournal { journal, _ in
            try await journal.append(Event(job: "a", type: .created))
            await #expect(throws: JournalError.versionConflict(job: "a", expected: 0, actual: 1)) {
                try await journal.append([
                    AppendItem(Event(job: "b", type: .created)),
                    AppendItem(Event(job: "a", type: .started), expectedVersion: 0),
                ])
            }
            #expect(try journal.lastSeq() == 1)
            #expect(try journal.version(of: "b") == 0)
            // The right expectation, including earlier events of the same batch, is accepted.
            let ok = try await journal.append([
                AppendItem(Event(job: "a", type: .started), expectedVersion: 1),
                AppendItem(Event(job: "a", type: .heartbeat), expectedVersion: 2),
            ])
            #expect(ok.map(\.version) == [2, 3])
        }
    }

    @Test func invalidEventIsRefusedBeforeStorage() async throws {
        try await withJournal { (journal: Journal, _: String) async throws in
            await #expect(throws: JournalError.invalidEvent(index: 1, EventValidationError(field: "holder", problem: "required for refAcquired"))) {
                try await journal.append([
                    AppendItem(Event(job: "a", type: .created)), AppendItem(Event(job: "a", type: .refAcquired)),
                ])
            }
            #expect(try journal.eventCount() == 0)
        }
    }

    @Test func concurrentAppendersShareCommitsAndConflictsStayLocal() async throws {
        try await withJournal { journal, _ in
            try await journal.append(Event(job: "contended", type: .created))
            let results = await withTaskGroup(of: Result<RecordedEvent, JournalError>.self) { group in
                for i in 0..<64 {
                    group.addTask {
                        do throws(JournalError) {
                            // Task 0 expects a wrong version; it alone must fail.
                            let expected: UInt64? = i == 0 ? 99 : nil
                            return .success(try await journal.append(Event(job: "job-\(i)", type: .created), expectedVersion: expected))
                        } catch { return .failure(error) }
                    }
                }
                var all: [Result<RecordedEvent, JournalError>] = []
                for await r in group { all.append(r) }
                return all
            }
            let failures = results.filter { if case .failure = $0 { true } else { false } }
            #expect(failures.count == 1)
            #expect(try journal.eventCount() == 64)
            let seqs = try journal.events(from: 1).map(\.seq)
            #expect(seqs == Array(1...64))
        }
    }

    @Test func exportWritesEveryEventLineInSeqOrderAcrossChunks() async throws {
        try await withJournal { journal, _ in
            // ~2,000 lines of ~100 bytes: several 64 KiB chunks; texts that need escaping.
            for round in 0..<20 {
                try await journal.append((0..<100).map { i in
                    AppendItem(Event(
                        job: "jøb \"\(i % 7)\"", type: .progress, at: Timestamp(seconds: Int64(round * 100 + i)),
                        node: "n\t1", reason: i % 3 == 0 ? "line\nbreak" : nil, index: UInt64(i), data: #"{"r":\#(round)}"#))
                })
            }
            var bytes: [UInt8] = []
            var chunks = 0
            let written = try journal.exportJSONLines { chunk in
                bytes.append(contentsOf: chunk)
                chunks += 1
            }
            let expected = try journal.events(from: 1).map { $0.event.jsonLine + "\n" }.joined()
            #expect(written == 2000)
            #expect(chunks > 1)
            #expect(String(decoding: bytes, as: UTF8.self) == expected)

            // A window selects jobs with an event inside it, and exports their whole histories.
            var windowed: [UInt8] = []
            let inWindow = try journal.exportJSONLines(since: Timestamp(seconds: 0), until: Timestamp(seconds: 1)) {
                windowed.append(contentsOf: $0)
            }
            let jobs: Set<String> = ["jøb \"0\"", "jøb \"1\""]
            let histories = try journal.events(from: 1).filter { jobs.contains($0.event.job) }
            #expect(inWindow == histories.count)
            #expect(String(decoding: windowed, as: UTF8.self) == histories.map { $0.event.jsonLine + "\n" }.joined())
        }
    }

    @Test func viewBatchesHoldEveryRecordInOrderAcrossChunks() async throws {
        try await withJournal { journal, _ in
            try await journal.append((1...100).map { AppendItem(Event(job: "job-\($0 % 7)", type: .heartbeat, index: UInt64($0))) })
            for (chunk, batch) in [(65_536, 32), (10, 3), (7, 7), (1, 1), (100, 1000)] {
                var seqs: [UInt64] = []
                var jobs: [String] = []
                var largest = 0
                try journal.scanViewBatches(chunk: chunk, batch: batch) { views in
                    largest = max(largest, views.count)
                    for view in views {
                        seqs.append(view.seq)
                        jobs.append(view.jobString)
                    }
                    return true
                }
                #expect(seqs == Array(1...100), "chunk \(chunk), batch \(batch)")
                #expect(jobs == (1...100).map { "job-\($0 % 7)" })
                #expect(largest == min(batch, chunk, 100))
            }
            var seen = 0
            try journal.scanViewBatches(batch: 8) { views in
                seen += views.count
                return seen < 20  // stops after the batch that crossed 20
            }
            #expect(seen == 24)
        }
    }

    /// The read-ahead scan hands over exactly what the in-place scan does, in order: across its
    /// slots (1,024 records each), with records larger than a slot's bytes, within bounds, and it
    /// stops when told to, its reader thread ended.
    @Test func readAheadViewsAreTheInPlaceViews() async throws {
        try await withJournal { journal, _ in
            let big = "{\"blob\":\"" + String(repeating: "x", count: 300_000) + "\"}"
            var items: [AppendItem] = []
            for i in 1...2_600 {
                let milestone = i % 500 == 0
                let node: String? = i % 3 == 0 ? "n\(i % 4)" : nil
                let index: UInt64? = i % 2 == 0 ? UInt64(i) : nil
                let data = milestone ? big : "{\"i\":\(i)}"
                let type: EventType = milestone ? .progress : .heartbeat
                items.append(AppendItem(Event(job: "job-\(i % 13)", type: type, node: node, index: index, data: data)))
            }
            try await journal.append(items)
            func recorded(_ scan: ((UnsafeBufferPointer<EventView>) throws -> Bool) throws -> Void) rethrows -> [RecordedEvent] {
                var all: [RecordedEvent] = []
                try scan { views in
                    all.append(contentsOf: views.map(\.recorded))
                    return true
                }
                return all
            }
            for (from, through, batch) in [(UInt64(1), UInt64.max, 32), (700, 2_100, 5), (2_600, 2_600, 1), (3_000, UInt64.max, 32)] {
                let inPlace = try recorded { try journal.scanViewBatches(from: from, through: through, batch: batch, $0) }
                let ahead = try recorded { try journal.scanViewBatchesReadingAhead(from: from, through: through, batch: batch, $0) }
                #expect(ahead == inPlace, "from \(from) through \(through)")
                #expect(ahead.count == Int(min(through, 2_600)) - Int(from) + 1 || from > 2_600)
            }
            var seen = 0
            try journal.scanViewBatchesReadingAhead(batch: 8) { views in
                seen += views.count
                return seen < 20
            }
            #expect(seen == 24)
        }
    }

    @Test func scanStreamsInOrderAcrossChunks() async throws {
        try await withJournal { journal, _ in
            let items = (0..<1000).map { AppendItem(Event(job: "j\($0 % 7)", type: .heartbeat, index: UInt64($0))) }
            try await journal.append(items)
            var seen: [UInt64] = []
            try journal.scan(from: 10, through: 900, chunk: 64) { e in
                seen.append(e.seq)
                return true
            }
            #expect(seen == Array(10...900))
            #expect(try journal.events(from: 995).map(\.seq) == [995, 996, 997, 998, 999, 1000])
            #expect(try journal.jobIDs() == (0..<7).map { "j\($0)" })
        }
    }

    @Test func reopenKeepsEverythingAndReadOnlyCannotAppend() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("j.journal")
        do {
            let journal = try Journal.open(at: path)
            try await journal.append([AppendItem(Event(job: "a", type: .created)), AppendItem(Event(job: "a", type: .started))])
            journal.close()
        }
        var options = Journal.Options()
        options.readOnly = true
        let reader = try Journal.open(at: path, options: options)
        defer { reader.close() }
        #expect(try reader.events(ofJob: "a").count == 2)
        await #expect(throws: JournalError.readOnly) { try await reader.append(Event(job: "a", type: .heartbeat)) }
    }

    @Test func readOnlyOpenOfMissingJournalIsAClearError() {
        var options = Journal.Options()
        options.readOnly = true
        #expect(throws: JournalError.notFound(path: "/nonexistent/x.journal")) {
            try Journal.open(at: "/nonexistent/x.journal", options: options)
        }
    }
}

/// How long the writer waits for the last group's callers (rules in `GroupCommitter.companionWindow`).
@Suite struct CompanionWindowTests {
    @Test(arguments: [
        // (recent commit cost ns, cap µs, window ns)
        (4_000_000 as UInt64, 200, 200_000 as UInt64),  // durable commit: the cap holds
        (100_000, 200, 50_000),  // cheap commit: half its cost
        (0, 200, 0),  // nothing committed yet: no wait
        (4_000_000, 0, 0),  // waiting disabled
        (4_000_000, -5, 0),  // a negative cap is no wait, not a trap
    ])
    func windowIsHalfTheCommitCostUnderTheCap(cost: UInt64, cap: Int, window: UInt64) {
        #expect(GroupCommitter.companionWindow(commitNanoseconds: cost, maxDelayMicroseconds: cap) == window)
    }
}

/// Compaction's exclusive lock, and an opener's shared one, wait boundedly for a holder that is
/// letting go (a closed journal whose descriptor a child forked by another thread still shares until
/// it execs).
@Suite struct OwnersLockTests {
    @Test func anExclusiveLockWaitsForAHolderThatIsLettingGo() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("o.journal")
        let holder = try OwnersLock(journalPath: path, exclusive: false)
        let letGo = Thread {
            usleep(100_000)
            holder.release()
        }
        letGo.start()
        let exclusive = try OwnersLock(journalPath: path, exclusive: true, waitMilliseconds: 10_000)
        exclusive.release()
    }

    /// A CI failure (2026-12-02): a journal reopened right after its compaction was refused as busy,
    /// the compaction's exclusive lock still held by a child another test had just forked.
    @Test func anOpenerWaitsForACompactionThatIsLettingGo() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("o.journal")
        try Journal.open(at: path).close()
        let compaction = try OwnersLock(journalPath: path, exclusive: true)
        let letGo = Thread {
            usleep(100_000)
            compaction.release()
        }
        letGo.start()
        let journal = try Journal.open(at: path)
        journal.close()
    }

    @Test func aLockHeldThroughTheWaitIsRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("o.journal")
        let holder = try OwnersLock(journalPath: path, exclusive: false)
        defer { holder.release() }
        #expect(throws: JournalError.inUse(path: path)) { try OwnersLock(journalPath: path, exclusive: true, waitMilliseconds: 50) }
        let compaction = try OwnersLock(journalPath: path + "2", exclusive: true)
        defer { compaction.release() }
        #expect(throws: JournalError.busy(path: path + "2")) { try OwnersLock(journalPath: path + "2", exclusive: false, waitMilliseconds: 50) }
    }
}
