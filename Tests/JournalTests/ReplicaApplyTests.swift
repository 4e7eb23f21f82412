import Foundation
import Journal
import Lifecycle
import TestSupport
import Testing

/// Applying a shared log's records to a journal as its replica (docs/scale-out.md): next seqs, the
/// shared log's versions, the cursor in the same transaction, nothing of a batch that disagrees.
@Suite struct ReplicaApplyTests {
    static let at = Timestamp(seconds: 1_780_272_000)

    static func record(_ event: Event, version: UInt64) -> Journal.ReplicatedRecord {
        var event = event
        event.at = event.at ?? at
        return Journal.ReplicatedRecord(version: version, record: Journal.encodeRecord(seq: 0, version: 0, appendedAt: at, event: event))
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
                [Self.record(Event(job: "a", type: .started, node: "n1"), version: 1), Self.record(Event(job: "b", type: .created), version: 1)],
                cursor: .init(tx: 740, position: 2))
            #expect(first.map(\.seq) == [1, 2] && first.map(\.version) == [1, 1])
            let second = try journal.applyReplicated(
                [Self.record(Event(job: "a", type: .completed, data: #"{"ok":true}"#), version: 2)],
                cursor: .init(tx: 741, position: 3))
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
            try journal.applyReplicated([Self.record(Event(job: "a", type: .created), version: 1)], cursor: .init(tx: 1, position: 1))
            // Version 1 of a again, after a good record of b: the whole batch is refused.
            #expect(throws: JournalError.self) {
                try journal.applyReplicated(
                    [Self.record(Event(job: "b", type: .created), version: 1), Self.record(Event(job: "a", type: .started), version: 1)],
                    cursor: .init(tx: 2, position: 3))
            }
            var damaged = Self.record(Event(job: "c", type: .created), version: 1)
            damaged.record[32] ^= 0x01  // the job id's byte: the CRC no longer holds
            #expect(throws: JournalError.self) { try journal.applyReplicated([damaged], cursor: .init(tx: 3, position: 4)) }
            #expect(try journal.eventCount() == 1)
            #expect(try journal.replicaCursor() == .init(tx: 1, position: 1))
            #expect(try journal.version(of: "b") == 0)
        }
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
}
