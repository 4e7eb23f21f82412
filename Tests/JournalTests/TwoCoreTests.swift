@testable import Journal
import ConcurrencyKit
import Lifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The work `verify` and `export` share out to a second thread: the same answers, in the same
/// order, as one thread gives, and every thread ended on every way out.
@Suite struct TwoCoreTests {
    @Test func backgroundWorkHandsItsResultOverFromAnotherThread() {
        let caller = pthread_self()
        let work = BackgroundWork { () -> (sum: Int, elsewhere: Bool) in
            ((1...1000).reduce(0, +), pthread_equal(pthread_self(), caller) == 0)
        }
        let result = work.join()
        #expect(result.sum == 500_500)
        #expect(result.elsewhere == work.hasThread)
    }

    @Test(arguments: [0, 1, 2, 7, 64], [true, false])
    func interleavedPartsAreUsedInOrderWithBuffersReused(count: Int, twoThreads: Bool) throws {
        let made = Mutex<[Int]>([])
        let freshEven = Atomic<Int>(0)
        var used: [Int] = []
        try InterleavedParts.run(count: count, twoThreads: twoThreads) { (i: Int, reuse: [Int]?) -> Result<[Int], JournalError> in
            made.withLock { $0.append(i) }
            if reuse == nil, i.isMultiple(of: 2) { freshEven.add(1, ordering: .relaxed) }
            return .success([i, i * i])
        } use: { part in
            #expect(part[1] == part[0] * part[0])
            used.append(part[0])
            return true
        }
        #expect(used == Array(0..<count))
        #expect(made.withLock { $0.sorted() } == Array(0..<count))
        // The calling thread fills its one buffer again and again (how soon the other thread gets
        // its buffers back depends on timing, so only the caller's side is counted).
        #expect(freshEven.load(ordering: .relaxed) == min(count, 1))
    }

    @Test func interleavedPartsStopWhenTheCallerStopsAndThrowAFailedPartInItsTurn() throws {
        var used: [Int] = []
        try InterleavedParts.run(count: 1000) { (i: Int, _: Int?) -> Result<Int, JournalError> in .success(i) } use: { i in
            used.append(i)
            return i < 4
        }
        #expect(used == [0, 1, 2, 3, 4])

        used = []
        #expect(throws: JournalError.corruptRecord(seq: 5, detail: "part 5")) {
            try InterleavedParts.run(count: 10) { (i: Int, _: Int?) in
                i == 5 ? .failure(JournalError.corruptRecord(seq: 5, detail: "part 5")) : .success(i)
            } use: { i in
                used.append(i)
                return true
            }
        }
        #expect(used == [0, 1, 2, 3, 4], "the parts before the failed one, in order, and none after")
    }

    /// Export writes alternate ranges of 4,096 seqs on two threads: the bytes must be the lines
    /// of every event in seq order, also across ranges that compaction emptied or thinned.
    @Test func exportAcrossRangesOfSeqsWithGapsEqualsEveryLineInSeqOrder() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("parts.journal")
        let journal = try Journal.open(at: path)
        for round in 0..<5 {
            try await journal.append((0..<3_000).map { i in
                AppendItem(Event(
                    job: "job-\(i % 97)", type: .progress, at: Timestamp(seconds: Int64(round * 3_000 + i)),
                    reason: i % 5 == 0 ? "a \"quoted\"\nreason" : nil, index: UInt64(i), data: #"{"r":\#(round),"i":\#(i)}"#))
            })
        }
        journal.close()
        // Drop seqs 4,097-8,192 (one whole range) and every third seq of 9,000-12,000.
        let drop = Array(4_097...8_192) + stride(from: 9_000, through: 12_000, by: 3).map { UInt64($0) }
        _ = try Journal.compact(at: path) { _ in Journal.CompactionPlan(drop: drop) }
        let reopened = try Journal.open(at: path, options: .forReading)
        defer { reopened.close() }
        var bytes: [UInt8] = []
        var largestChunk = 0
        let written = try reopened.exportJSONLines { chunk in
            bytes.append(contentsOf: chunk)
            largestChunk = max(largestChunk, chunk.count)
        }
        let events = try reopened.events(from: 1)
        #expect(events.count == 15_000 - drop.count)
        #expect(written == events.count)
        #expect(largestChunk <= Journal.exportChunk)
        #expect(String(decoding: bytes, as: UTF8.self) == events.map { $0.event.jsonLine + "\n" }.joined())
    }

    /// Once a part of `verify` has failed, the parts still running on other threads stop at their
    /// next check instead of reading to their end (their answer is no longer wanted).
    @Test func verifysPartsStopWhenToldAndCheckAllWhenNot() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let journal = try Journal.open(at: dir.file("stop.journal"))
        defer { journal.close() }
        for _ in 0..<4 {
            try journal.appendBlocking((0..<10_000).map { i in AppendItem(Event(job: "job-\(i % 50)", type: .created)) })
        }
        let (records, entries, logStopped, indexStopped) = try journal.env.read { txn throws -> (Int, Int, Bool, Bool) in
            let running = CheckedCount()
            let records = try LogPass(txn, journal.log, from: 1, through: 40_000, counted: running).records
            let entries = try IndexPass(txn, journal.jobs, counted: running).digest.count
            let stopped = CheckedCount()
            stopped.stop()
            let logStopped = (try? LogPass(txn, journal.log, from: 1, through: 40_000, counted: stopped)) == nil
            let indexStopped = (try? IndexPass(txn, journal.jobs, counted: stopped)) == nil
            return (records, entries, logStopped, indexStopped)
        }
        #expect(records == 40_000 && entries == 40_000, "not told to stop: every record and entry")
        #expect(logStopped && indexStopped, "told to stop: both passes stop before their end")
    }
}
