import Foundation
import Journal
import LMDB
import Lifecycle
import TestSupport
import Testing

/// Damaged records must surface as typed errors naming the seq, never as a crash.
@Suite struct CorruptionTests {
    /// Rewrites the raw record stored under `seq` with `transform` applied, bypassing the journal.
    func tamper(path: String, seq: UInt64, _ transform: (inout [UInt8]) -> Void) throws {
        let env = try Environment(Environment.Options(path: path))
        defer { env.close() }
        let log = try env.openDatabases([("log", [])])[0]
        try env.write { txn in
            var key = seq.bigEndian
            try withUnsafeBytes(of: &key) { k in
                guard let value = try txn.get(log, key: k) else { Issue.record("no record"); return }
                var bytes = Array(value)
                transform(&bytes)
                try bytes.withUnsafeBytes { v in try txn.put(log, key: k, value: v) }
            }
        }
    }

    func journalWithThreeEvents() async throws -> (TemporaryDirectory, String) {
        let dir = TemporaryDirectory()
        let path = dir.file("c.journal")
        let journal = try Journal.open(at: path)
        try await journal.append((1...3).map { AppendItem(Event(job: "a", type: .heartbeat, index: UInt64($0))) })
        journal.close()
        return (dir, path)
    }

    @Test func flippedByteIsACorruptionErrorNamingTheSeq() async throws {
        let (dir, path) = try await journalWithThreeEvents()
        defer { dir.cleanup() }
        try tamper(path: path, seq: 2) { $0[20] ^= 0x01 }
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        #expect(try journal.event(at: 1) != nil)
        #expect {
            try journal.event(at: 2)
        } throws: { error in
            guard case .corruptRecord(let seq, let detail) = error as? JournalError else { return false }
            return seq == 2 && detail.contains("checksum")
        }
        #expect(throws: JournalError.self) { try journal.scan { _ in true } }
    }

    /// Reading ahead, a damaged record reaches the caller in order: every record before it is
    /// handed over, then the same error as the in-place scan, naming the seq.
    @Test func readAheadHandsOverWhatPrecedesADamagedRecordThenItsError() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("c.journal")
        do {
            let journal = try Journal.open(at: path)
            try await journal.append((1...3_000).map { AppendItem(Event(job: "j\($0 % 5)", type: .heartbeat, index: UInt64($0))) })
            journal.close()
        }
        try tamper(path: path, seq: 2_222) { $0[20] ^= 0x01 }
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        for readAhead in [false, true] {
            var seqs: [UInt64] = []
            let collect = { (views: UnsafeBufferPointer<EventView>) -> Bool in
                seqs.append(contentsOf: views.map(\.seq))
                return true
            }
            #expect {
                if readAhead { try journal.scanViewBatchesReadingAhead(collect) } else { try journal.scanViewBatches(collect) }
            } throws: { error in
                guard case .corruptRecord(let seq, let detail) = error as? JournalError else { return false }
                return seq == 2_222 && detail.contains("checksum")
            }
            // The in-place scan hands over its batch before the damaged record only when full.
            if readAhead { #expect(seqs == Array(1...2_221)) } else { #expect(seqs == Array(1...(2_221 / 32 * 32))) }
        }
    }

    @Test func truncatedRecordIsACorruptionError() async throws {
        let (dir, path) = try await journalWithThreeEvents()
        defer { dir.cleanup() }
        try tamper(path: path, seq: 3) { $0 = Array($0.prefix(10)) }
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        #expect {
            try journal.event(at: 3)
        } throws: { error in
            if case .corruptRecord(seq: 3, _) = error as? JournalError { return true }
            return false
        }
    }

    @Test func unknownRecordFormatIsAClearError() async throws {
        let (dir, path) = try await journalWithThreeEvents()
        defer { dir.cleanup() }
        try tamper(path: path, seq: 1) { $0[0] = 9 }
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        #expect(throws: JournalError.unknownFormat(what: "record at seq 1", version: 9)) { try journal.event(at: 1) }
    }

    @Test func aFileThatIsNotAJournalIsRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("garbage.journal")
        try String(repeating: "not lmdb ", count: 2000).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: JournalError.self) { try Journal.open(at: path) }
    }

    /// Rewrites the record under `seq` with `edit`, then gives it a valid CRC again: damage a CRC
    /// cannot see, which only `verify`'s rule check can.
    func forge(path: String, seq: UInt64, _ edit: @escaping @Sendable (inout [UInt8]) -> Void) throws {
        try tamper(path: path, seq: seq) { bytes in
            edit(&bytes)
            var key = seq.bigEndian
            var body = withUnsafeBytes(of: &key) { Array($0) }
            body += bytes[..<(bytes.count - 4)]
            let crc = body.withUnsafeBytes { Journal.checksum($0) }
            withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((bytes.count - 4)..., with: $0) }
        }
    }

    @Test(arguments: [
        ("reserved bytes set", "reserved header bytes are 1, not 0"),
        ("refReleased without a holder", "breaks the event rules: holder: required for refReleased"),
        ("a job id that is not UTF-8", "the job id is not UTF-8"),
    ])
    func verifyRefusesARecordWithAValidCRCThatBreaksTheRules(what: String, message: String) async throws {
        let edit: @Sendable (inout [UInt8]) -> Void =
            switch what {
            case "reserved bytes set": { $0[6] = 1 }
            case "refReleased without a holder": { $0[1] = EventType.refReleased.rawValue }
            default: { $0[32] = 0xFF }
            }
        let (dir, path) = try await journalWithThreeEvents()
        defer { dir.cleanup() }
        try forge(path: path, seq: 2, edit)
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        #expect(try journal.event(at: 2) != nil, "\(what): the CRC holds, so plain reads still decode it")
        #expect {
            try journal.verify()
        } throws: { error in
            guard case .corruptRecord(let seq, let detail) = error as? JournalError else { return false }
            return seq == 2 && detail.contains(message)
        }
    }
}

/// The index must agree with the log entry for entry; each way it can disagree is named by `verify`.
@Suite struct IndexCorruptionTests {
    enum Damage: String, CaseIterable, Sendable {
        case missingEntry, entryForNoRecord, wrongVersion, entryUnderAnotherJob, entryForUnknownJob
    }

    /// Rewrites the per-job index directly, bypassing the journal.
    func tamperIndex(path: String, _ body: (borrowing Transaction, Database) throws -> Void) throws {
        let env = try Environment(Environment.Options(path: path))
        defer { env.close() }
        let jobs = try env.openDatabases([("jobs", [.duplicateSort, .duplicateFixed])])[0]
        try env.write { txn in try body(txn, jobs) }
    }

    func entry(_ version: UInt64, _ seq: UInt64) -> [UInt8] {
        withUnsafeBytes(of: (version.bigEndian, seq.bigEndian)) { Array($0) }
    }

    @Test(arguments: Damage.allCases)
    func verifyNamesTheDisagreement(damage: Damage) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("i.journal")
        let journal = try Journal.open(at: path)
        try await journal.append((1...3).map { AppendItem(Event(job: "a", type: .heartbeat, index: UInt64($0))) })
        try await journal.append(Event(job: "b", type: .created))
        journal.close()
        // (job, entry) pairs to delete, then to put.
        let (a, b, ghost) = ("a", "b", "ghost")
        let (deletes, puts): ([(String, [UInt8])], [(String, [UInt8])]) = switch damage {
        case .missingEntry: ([(a, entry(2, 2))], [])
        case .entryForNoRecord: ([], [(a, entry(4, 9))])
        case .wrongVersion: ([(a, entry(2, 2))], [(a, entry(7, 2))])
        case .entryUnderAnotherJob: ([(b, entry(1, 4))], [(a, entry(1, 4))])
        case .entryForUnknownJob: ([], [(ghost, entry(1, 1))])
        }
        try tamperIndex(path: path) { txn, jobs in
            for (job, value) in deletes {
                try Array(job.utf8).withUnsafeBytes { k in try value.withUnsafeBytes { v in _ = try txn.delete(jobs, key: k, value: v) } }
            }
            for (job, value) in puts {
                try Array(job.utf8).withUnsafeBytes { k in try value.withUnsafeBytes { v in try txn.put(jobs, key: k, value: v) } }
            }
        }
        let reopened = try Journal.open(at: path, options: .forReading)
        defer { reopened.close() }
        let expected: (job: String, detail: String) = switch damage {
        case .missingEntry: ("a", "no index entry for seq 2 (version 2)")
        case .entryForNoRecord: ("a", "entry for seq 9, which is not in the log")
        case .wrongVersion: ("a", "no index entry for seq 2 (version 2)")
        case .entryUnderAnotherJob: ("b", "no index entry for seq 4 (version 1)")
        case .entryForUnknownJob: ("ghost", "entry (version 1, seq 1) but that record is version 1 of job \"a\"")
        }
        #expect(throws: JournalError.corruptIndex(job: expected.job, detail: expected.detail)) { try reopened.verify() }
    }
}

/// `verify` checks the two halves of the log on two threads: the problem it names must still be the
/// first in seq order, whichever half holds it.
@Suite struct VerifySplitTests {
    @Test(arguments: [[2_500], [700, 2_500], [1_500, 1_501]])
    func verifyNamesTheFirstDamagedRecordWhicheverHalfHoldsIt(damaged: [UInt64]) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("v.journal")
        do {
            let journal = try Journal.open(at: path)
            try await journal.append((1...3_000).map { AppendItem(Event(job: "j\($0 % 11)", type: .heartbeat, index: UInt64($0))) })
            journal.close()
        }
        for seq in damaged { try CorruptionTests().tamper(path: path, seq: seq) { $0[20] ^= 0x01 } }
        let journal = try Journal.open(at: path, options: .forReading)
        defer { journal.close() }
        #expect {
            try journal.verify()
        } throws: { error in
            guard case .corruptRecord(let seq, let detail) = error as? JournalError else { return false }
            return seq == damaged[0] && detail.contains("checksum")
        }
    }

    /// An empty log has no halves: nothing to check, and nothing to split.
    @Test(arguments: [0, 1, 2])
    func verifyOfAJournalWithNoneOneOrTwoRecordsIsSound(records: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let journal = try Journal.open(at: dir.file("small.journal"))
        defer { journal.close() }
        if records > 0 { try await journal.append((1...records).map { AppendItem(Event(job: "j\($0)", type: .created)) }) }
        let report = try journal.verify()
        #expect(report.records == records)
        #expect(report.jobs == records)
        #expect(report.lastSeq == UInt64(records))
        var exported = 0
        #expect(try journal.exportJSONLines { exported += $0.count } == records)
        #expect((exported == 0) == (records == 0))
    }

    @Test func verifyCountsEveryRecordAndJobAndReportsProgressUpToTheEnd() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.file("v.journal")
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        for _ in 0..<4 {
            try await journal.append((1...50_000).map { AppendItem(Event(job: "j\($0 % 1_234)", type: .heartbeat)) })
        }
        var reported: [Int] = []
        let report = try journal.verify { reported.append($0) }
        #expect(report.records == 200_000)
        #expect(report.jobs == 1_234)
        #expect(report.indexEntries == 200_000)
        #expect(report.lastSeq == 200_000)
        #expect(reported.last == 200_000)
        #expect(reported == reported.sorted(), "progress never goes back")
        #expect(reported.count >= 2, "progress while checking, not only at the end")
    }

    /// Versions that fall as seqs grow, with an index that agrees with the log entry for entry:
    /// the index pass, reading each job's entries in version order, names it.
    @Test func verifyNamesVersionsThatDoNotGrowWithSeqsEvenWhenTheIndexAgrees() async throws {
        let (dir, path) = try await CorruptionTests().journalWithThreeEvents()
        defer { dir.cleanup() }
        // Seq 3 of job "a" claims version 1 (a CRC made anew), and its index entry says so too.
        try CorruptionTests().forge(path: path, seq: 3) { bytes in
            withUnsafeBytes(of: UInt64(1).littleEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        }
        try IndexCorruptionTests().tamperIndex(path: path) { txn, jobs in
            let a = Array("a".utf8)
            let entries = [IndexCorruptionTests().entry(3, 3), IndexCorruptionTests().entry(1, 3)]
            try a.withUnsafeBytes { k in
                try entries[0].withUnsafeBytes { v in _ = try txn.delete(jobs, key: k, value: v) }
                try entries[1].withUnsafeBytes { v in try txn.put(jobs, key: k, value: v) }
            }
        }
        let journal = try Journal.open(at: path, options: .forReading)
        defer { journal.close() }
        #expect(
            throws: JournalError.corruptIndex(
                job: "a", detail: "versions do not grow with seqs: version 1 is seq 1, version 1 is seq 3")
        ) { try journal.verify() }
    }
}
