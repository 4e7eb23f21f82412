import Foundation
import Journal
import Lifecycle
import TestSupport
import Testing

/// Applying a shared log's records to a journal as its replica (docs/scale-out.md): next seqs, the
/// shared log's versions, the cursor in the same transaction, nothing of a batch that disagrees.
@Suite struct ReplicaApplyTests {
    static let at = Timestamp(seconds: 1_780_272_000)

    static let log = "postgresql://db.example/jobs#logbook_events"

    static func record(_ event: Event, version: UInt64, at cursor: (tx: Int64, position: Int64)) -> Journal.ReplicatedRecord {
        var event = event
        event.at = event.at ?? at
        return Journal.ReplicatedRecord(
            cursor: .init(tx: cursor.tx, position: cursor.position), version: version,
            record: Journal.encodeRecord(seq: 0, version: 0, appendedAt: at, event: event))
    }

    func withReplica(_ body: (Journal, String) throws -> Void) throws {
        let dir = TemporaryDirectory("replica")
        defer { dir.cleanup() }
        let path = dir.file("replica.journal")
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        try body(journal, path)
    }

    @Test func batchesGetTheNextSeqsKeepTheirVersionsAndStoreTheCursorWithThem() throws {
        try withReplica { journal, path in
            #expect(try journal.replicaCursor() == nil)
            let first = try journal.applyReplicated(
                [Self.record(Event(job: "a", type: .started, node: "n1"), version: 1, at: (740, 1)),
                 Self.record(Event(job: "b", type: .created), version: 1, at: (740, 2))],
                from: Self.log)
            #expect(first.map(\.seq) == [1, 2] && first.map(\.version) == [1, 1])
            let second = try journal.applyReplicated(
                [Self.record(Event(job: "a", type: .completed, data: #"{"ok":true}"#), version: 2, at: (741, 3))], from: Self.log)
            #expect(second.map(\.seq) == [3])
            #expect(try journal.replicaCursor() == .init(tx: 741, position: 3))
            #expect(try journal.events(ofJob: "a").map(\.version) == [1, 2])
            #expect(try journal.events(ofJob: "a").last?.event.data == #"{"ok":true}"#, "data byte for byte")
            let report = try journal.verify()
            #expect(report.records == 3 && report.jobs == 2, "CRCs recomputed for the seqs given here; index sound")
            journal.close()
            let reopened = try Journal.open(at: path, options: .forReading)
            defer { reopened.close() }
            #expect(try reopened.replicaCursor() == .init(tx: 741, position: 3))
        }
    }

    @Test func aBatchThatDisagreesWithTheReplicaAppliesNothingAndKeepsTheCursor() throws {
        try withReplica { journal, _ in
            try journal.applyReplicated([Self.record(Event(job: "a", type: .created), version: 1, at: (1, 1))], from: Self.log)
            // Version 1 of a again, after a good record of b: the whole batch is refused.
            #expect(throws: JournalError.self) {
                try journal.applyReplicated(
                    [Self.record(Event(job: "b", type: .created), version: 1, at: (2, 2)),
                     Self.record(Event(job: "a", type: .started), version: 1, at: (2, 3))],
                    from: Self.log)
            }
            var damaged = Self.record(Event(job: "c", type: .created), version: 1, at: (3, 4))
            damaged.record[32] ^= 0x01  // the job id's byte: the CRC no longer holds
            #expect(throws: JournalError.self) { try journal.applyReplicated([damaged], from: Self.log) }
            #expect(try journal.eventCount() == 1)
            #expect(try journal.replicaCursor() == .init(tx: 1, position: 1))
            #expect(try journal.version(of: "b") == 0)
        }
    }

    /// Versions must be contiguous: a record that skips one (a row the follower never saw) is a hole
    /// the replica would keep for ever, so the batch is refused, naming what is missing.
    @Test func aRecordThatSkipsAVersionIsRefusedNamingTheHole() throws {
        try withReplica { journal, _ in
            try journal.applyReplicated([Self.record(Event(job: "a", type: .created), version: 1, at: (1, 1))], from: Self.log)
            #expect {
                try journal.applyReplicated(
                    [Self.record(Event(job: "b", type: .created), version: 1, at: (2, 2)),
                     Self.record(Event(job: "a", type: .started, node: "n"), version: 3, at: (2, 3))],
                    from: Self.log)
            } throws: { error in
                guard case JournalError.corruptIndex(let job, let detail) = error else { return false }
                return job == "a" && detail.contains("(version 2 is missing)")
            }
            #expect(try journal.eventCount() == 1, "nothing of the batch was applied")
            #expect(try journal.replicaCursor() == .init(tx: 1, position: 1))
            try journal.applyReplicated([Self.record(Event(job: "a", type: .started, node: "n"), version: 2, at: (2, 3))], from: Self.log)
            #expect(try journal.version(of: "a") == 2)
        }
    }

    /// Two processes following one shared log into one replica (a node and a CLI command beside
    /// it): records at or before the stored cursor were applied by the other and are skipped, in
    /// the same write transaction that reads the cursor.
    @Test func recordsAtOrBeforeTheStoredCursorAreSkipped() throws {
        try withReplica { journal, _ in
            let a1 = Self.record(Event(job: "a", type: .created), version: 1, at: (5, 1))
            let a2 = Self.record(Event(job: "a", type: .started, node: "n"), version: 2, at: (5, 2))
            let b1 = Self.record(Event(job: "b", type: .created), version: 1, at: (6, 3))
            let first: [RecordedEvent] = try journal.applyReplicated([a1, a2], from: Self.log)
            let again: [RecordedEvent] = try journal.applyReplicated([a1, a2], from: Self.log)
            let third: [RecordedEvent] = try journal.applyReplicated([a2, b1], from: Self.log)
            #expect(first.map(\.seq) == [1, 2])
            #expect(again.isEmpty, "all applied already")
            #expect(third.map(\.seq) == [3], "only b1 is new")
            let cursor = try journal.replicaCursor()
            #expect(cursor == .init(tx: 6, position: 3))
            let records = try journal.verify().records
            #expect(records == 3)
        }
    }

    /// The replica marker: a replica refuses local appends and event-removing compaction; an
    /// ordinary journal with events of its own, or a replica of another log, cannot follow a log.
    @Test func aReplicaRefusesLocalWritesAndOnlyAnEmptyJournalBecomesOne() async throws {
        try withReplica { journal, path in
            #expect(try journal.sharedLogFollowed() == nil)
            try journal.applyReplicated([Self.record(Event(job: "a", type: .created), version: 1, at: (1, 1))], from: Self.log)
            #expect(try journal.sharedLogFollowed() == Self.log)
            #expect(throws: JournalError.replica(path: path, sharedLog: Self.log, refused: "a local append")) {
                try journal.appendBlocking([AppendItem(Event(job: "a", type: .started, node: "n"))])
            }
            #expect(throws: JournalError.notAReplica(path: path, sharedLog: "postgresql://other/db#t", detail: "it follows \(Self.log)")) {
                try journal.applyReplicated([Self.record(Event(job: "z", type: .created), version: 1, at: (2, 2))], from: "postgresql://other/db#t")
            }
            try journal.becomeReplica(of: Self.log)  // already: nothing to do
            journal.close()
            #expect(throws: JournalError.self) {
                _ = try Journal.compact(at: path) { _ in Journal.CompactionPlan(drop: [1]) }
            }
            _ = try Journal.compact(at: path) { _ in Journal.CompactionPlan() }  // a plain compact works
            let reopened = try Journal.open(at: path)
            defer { reopened.close() }
            #expect(try reopened.eventCount() == 1 && reopened.sharedLogFollowed() == Self.log, "the marker survives compaction")
        }
        let dir = TemporaryDirectory("not-a-replica")
        defer { dir.cleanup() }
        let local = try Journal.open(at: dir.file("local.journal"))
        defer { local.close() }
        try local.appendBlocking([AppendItem(Event(job: "a", type: .created))])
        #expect(throws: JournalError.self) { try local.becomeReplica(of: Self.log) }
        #expect(throws: JournalError.self) {
            try local.applyReplicated([Self.record(Event(job: "b", type: .created), version: 1, at: (1, 1))], from: Self.log)
        }
        #expect(try local.eventCount() == 1 && local.sharedLogFollowed() == nil)
    }

    /// kill -9 while a replica applies batch after batch: after each kill, the records stored are
    /// exactly those the stored cursor counts (batch and cursor are one transaction), and the next
    /// run resumes from it with nothing lost or doubled.
    @Test func aReplicaKilledMidApplyResumesExactlyFromItsCursor() throws {
        let dir = TemporaryDirectory("replica-kill")
        defer { dir.cleanup() }
        let path = dir.file("replica.journal")
        var lastAcknowledged: Int64 = 0
        for round in 0..<5 {
            let child = try ChildProcess(builtExecutable("logbook-crash-harness"), [path, "--replica", "--batch", "50"])
            #expect(child.waitForLine(timeout: 300) { $0 == "ready" }, "round \(round)")
            // Let it apply for a while, then kill it wherever it is.
            #expect(child.waitForLine(timeout: 300) { $0 == "applied \(lastAcknowledged + 500)" }, "round \(round)")
            usleep(UInt32(round * 7_000))
            child.kill9()
            let journal = try Journal.open(at: path, options: .forReading)
            defer { journal.close() }
            let cursor = try #require(try journal.replicaCursor())
            #expect(Int64(try journal.eventCount()) == cursor.position, "round \(round): records and cursor agree")
            #expect(cursor.position >= lastAcknowledged + 500 && cursor.position % 50 == 0, "round \(round)")
            #expect(try journal.verify().records == Int(cursor.position), "round \(round): versions follow, index sound")
            lastAcknowledged = cursor.position
        }
    }

    /// docs/scale-out.md: a damaged replica is replaced, not salvaged; a salvaged copy is an ordinary
    /// journal (no mark, no cursor: it may lack records the log has), which a node refuses as its replica.
    @Test func aSalvagedReplicaIsAnOrdinaryJournalThatANodeRefusesAsItsReplica() throws {
        try withReplica { journal, path in
            try journal.applyReplicated(
                [Self.record(Event(job: "a", type: .created), version: 1, at: (1, 1)),
                 Self.record(Event(job: "a", type: .started, node: "n"), version: 2, at: (1, 2))], from: Self.log)
            let stage = path + ".salvaged"
            let report = try journal.salvage(into: stage)
            #expect(report.kept == 2 && report.lost.isEmpty)
            let salvaged = try Journal.open(at: stage)
            defer { salvaged.close() }
            #expect(try salvaged.sharedLogFollowed() == nil && salvaged.replicaCursor() == nil)
            #expect(throws: JournalError.notAReplica(
                path: stage, sharedLog: Self.log, detail: "it holds events of its own (through seq 2), appended locally")) {
                try salvaged.becomeReplica(of: Self.log)
            }
        }
    }
}
