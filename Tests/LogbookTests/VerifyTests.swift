import Journal
import Logbook
import TestSupport
import Testing

/// `Logbook.Maintenance.verify` compares the newest snapshot, advanced by the log's tail, with a full replay
/// (the two run on threads of their own): it must say sound when they agree and name the job
/// when they do not, with or without a tail.
@Suite struct VerifyTests {
    /// A journal at `path` holding `events`, closed again.
    func journal(at path: String, _ events: [Event]) async throws {
        let logbook = try Logbook.open(at: path, options: testOptions())
        defer { logbook.close() }
        _ = try await logbook.append(events)
    }

    /// The snapshot of a journal holding `events` (made in a scratch journal of its own).
    func snapshot(of events: [Event], in dir: TemporaryDirectory) async throws -> [UInt8] {
        let path = dir.file("scratch-\(events.count).journal")
        try await journal(at: path, events)
        let logbook = try Logbook.open(at: path, options: testOptions(readOnly: true))
        defer { logbook.close() }
        return Logbook.encodeSnapshot(logbook.currentProjections)
    }

    func store(snapshot bytes: [UInt8], seq: UInt64, at path: String) throws {
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        try journal.storeSnapshotBlocking(seq: seq, bytes: bytes)
    }

    static let history = [
        e("a", .started, at: 0, node: "n1"), e("b", .started, at: 1, node: "n2"), e("a", .completed, at: 2),
        e("b", .heartbeat, at: 3),
    ]

    @Test(arguments: [0, 1, 3])
    func aSnapshotOfTheSameHistoryIsSoundWithAnyTail(tail: Int) async throws {
        let dir = TemporaryDirectory("verify")
        defer { dir.cleanup() }
        let path = dir.file("v.journal")
        let covered = Self.history.count - tail
        try await journal(at: path, Self.history)
        try store(snapshot: try await snapshot(of: Array(Self.history.prefix(covered)), in: dir), seq: UInt64(covered), at: path)
        let report = try Logbook.Maintenance.verify(at: path)
        #expect(report.snapshotSeq == UInt64(covered))
        #expect(report.records == Self.history.count)
        #expect(report.lastSeq == UInt64(Self.history.count))
        #expect(report.jobs == 2)
    }

    /// The snapshot says job "a" failed where the log says it completed.
    @Test(arguments: [0, 1])
    func aSnapshotOfAnotherHistoryIsCaughtNamingTheJob(tail: Int) async throws {
        let dir = TemporaryDirectory("verify")
        defer { dir.cleanup() }
        let path = dir.file("v.journal")
        try await journal(at: path, Self.history)
        var other = Self.history
        other[2] = e("a", .failed, at: 2)
        let covered = other.count - tail
        try store(snapshot: try await snapshot(of: Array(other.prefix(covered)), in: dir), seq: UInt64(covered), at: path)
        #expect {
            try Logbook.Maintenance.verify(at: path)
        } throws: { error in
            "\(error)" == "snapshot at seq \(covered) disagrees with a full replay for job a"
        }
    }

    @Test func aDamagedSnapshotIsNamed() async throws {
        let dir = TemporaryDirectory("verify")
        defer { dir.cleanup() }
        let path = dir.file("v.journal")
        try await journal(at: path, Self.history)
        var bytes = try await snapshot(of: Self.history, in: dir)
        bytes[bytes.count / 2] ^= 0x40
        try store(snapshot: bytes, seq: UInt64(Self.history.count), at: path)
        #expect {
            try Logbook.Maintenance.verify(at: path)
        } throws: { error in
            "\(error)".hasPrefix("snapshot at seq 4: snapshot is damaged")
        }
    }
}
