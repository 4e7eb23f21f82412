import Foundation
@testable import Journal
import Lifecycle
import TestSupport
import Testing

/// Event ids (Journal+EventIDs.swift): one test per row of the table there, then the invariants
/// (concurrent retries, verify, compaction, salvage, the record format).
@Suite struct EventIDTests {
    func withJournal(_ body: (Journal, String) async throws -> Void) async throws {
        let dir = TemporaryDirectory("ids")
        defer { dir.cleanup() }
        let path = dir.file("ids.journal")
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        try await body(journal, path)
    }

    static func ids(_ n: Int) -> [EventID] { (0..<n).map { _ in EventID.random() } }

    static func batch(_ ids: [EventID?], job: String = "job") -> [AppendItem] {
        ids.enumerated().map { i, id in AppendItem(Event(job: job, type: i == 0 ? .created : .heartbeat, data: #"{"i":\#(i)}"#, id: id)) }
    }

    // Row: no event has an id.
    @Test func eventsWithoutIdsAreStoredAsBeforeAndCostNoEntry() async throws {
        try await withJournal { journal, _ in
            let first = try await journal.appendReportingReplays(Self.batch([nil, nil]))
            let again = try await journal.appendReportingReplays(Self.batch([nil, nil]))
            #expect(!first.replayed && !again.replayed)
            #expect(again.events.map(\.seq) == [3, 4], "without ids a repeat is a new append")
            #expect(try journal.verify().eventIDs == 0)
            let record = try journal.env.read { txn in try StorageKeys.withSeqKey(1) { try txn.get(journal.log, key: $0).map { Array($0) } } }
            #expect(record?.first == RecordFormat.version, "a record without an id keeps format 1")
        }
    }

    // Row: none of the ids stored; then row: all stored, each for the same event.
    @Test func aRetryOfAStoredBatchStoresNothingAndAnswersTheFirstSeqsAndVersions() async throws {
        try await withJournal { journal, _ in
            let ids = Self.ids(3)
            let first = try await journal.appendReportingReplays(Self.batch(ids))
            #expect(!first.replayed && first.events.map(\.seq) == [1, 2, 3])
            _ = try await journal.append(Event(job: "job", type: .progress, index: 1))
            let retry = try await journal.appendReportingReplays(Self.batch(ids))
            #expect(retry.replayed)
            #expect(retry.events == first.events, "the same seqs, versions, times and fields")
            #expect(try journal.lastSeq() == 4, "nothing stored by the retry")
            #expect(try journal.verify().eventIDs == 3)
        }
    }

    // Row: all stored, `at` compared only when the retry gives one.
    @Test func aRetryMatchesOnEveryFieldAndOnAtOnlyWhenItGivesOne() async throws {
        try await withJournal { journal, _ in
            let id = EventID.random()
            let stored = try await journal.append([AppendItem(Event(job: "j", type: .created, id: id))])[0]
            let noAt = try await journal.appendReportingReplays([AppendItem(Event(job: "j", type: .created, id: id))])
            #expect(noAt.replayed)
            let sameAt = try await journal.appendReportingReplays([AppendItem(Event(job: "j", type: .created, at: stored.at, id: id))])
            #expect(sameAt.replayed)
            let otherAt = Timestamp(microseconds: stored.at.microseconds + 1)
            await #expect(throws: JournalError.self) {
                try await journal.append([AppendItem(Event(job: "j", type: .created, at: otherAt, id: id))])
            }
        }
    }

    // Row: some stored, some new.
    @Test func aBatchMixingStoredAndNewIdsIsRefusedWhole() async throws {
        try await withJournal { journal, _ in
            let ids = Self.ids(2)
            _ = try await journal.append(Self.batch([ids[0]]))
            do {
                _ = try await journal.append(Self.batch([ids[0], ids[1]]))
                Issue.record("a mixed batch was accepted")
            } catch {
                guard case JournalError.idConflict(let id, let detail) = error else { throw error }
                #expect(id == ids[0] && detail.contains("event 2 was not") && detail.contains("is new"), "\(detail)")
            }
            #expect(try journal.lastSeq() == 1, "nothing of the mixed batch stored")
        }
    }

    // Row: some stored, one event without an id.
    @Test func aStoredIdBesideAnEventWithoutIdIsRefused() async throws {
        try await withJournal { journal, _ in
            let id = EventID.random()
            _ = try await journal.append(Self.batch([id]))
            await #expect(throws: JournalError.self) { try await journal.append(Self.batch([id, nil])) }
            #expect(try journal.lastSeq() == 1)
        }
    }

    // Row: one stored for another event.
    @Test func anIdReusedForAnotherEventIsRefusedNamingBoth() async throws {
        try await withJournal { journal, _ in
            let id = EventID.random()
            _ = try await journal.append([AppendItem(Event(job: "a", type: .created, id: id))])
            for other in [
                Event(job: "b", type: .created, id: id), Event(job: "a", type: .started, id: id),
                Event(job: "a", type: .created, data: #"{"x":1}"#, id: id), Event(job: "a", type: .created, node: "n", id: id),
            ] {
                do {
                    _ = try await journal.append([AppendItem(other)])
                    Issue.record("reuse accepted: \(other)")
                } catch {
                    guard case JournalError.idConflict(let conflicting, let detail) = error else { throw error }
                    #expect(conflicting == id && detail.contains("another event (seq 1"), "\(detail)")
                }
            }
            #expect(try journal.lastSeq() == 1)
        }
    }

    // Row: one repeated within the batch.
    @Test func anIdRepeatedWithinABatchIsAConflict() async throws {
        try await withJournal { journal, _ in
            let id = EventID.random()
            do {
                _ = try await journal.append(Self.batch([id, EventID.random(), id]))
                Issue.record("accepted")
            } catch {
                guard case JournalError.idConflict(let conflicting, let detail) = error else { throw error }
                #expect(conflicting == id && detail.contains("event 3 repeats the id of event 1"), "\(detail)")
            }
            #expect(try journal.lastSeq() == 0)
        }
    }

    /// A replay answers what was stored, whatever the expected version says now (it held the
    /// first time; the job moved on since).
    @Test func aRetryOfAGuardedAppendIsAReplayNotAConflict() async throws {
        try await withJournal { journal, _ in
            _ = try await journal.append(Event(job: "g", type: .created))
            let id = EventID.random()
            let item = AppendItem(Event(job: "g", type: .started, node: "n", id: id), expectedVersion: 1)
            let first = try await journal.appendReportingReplays([item])
            _ = try await journal.append(Event(job: "g", type: .heartbeat))
            let retry = try await journal.appendReportingReplays([item])
            #expect(retry.replayed && retry.events == first.events)
        }
    }

    /// Ids are reserved before the versions are checked: a batch refused for its expected version
    /// takes its ids back, so the same ids with the right version are stored, not replayed.
    @Test func aBatchRefusedForItsVersionLeavesNoIdBehind() async throws {
        try await withJournal { journal, _ in
            _ = try await journal.append(Event(job: "v", type: .created))
            let id = EventID.random()
            await #expect(throws: JournalError.versionConflict(job: "v", expected: 5, actual: 1)) {
                try await journal.append([AppendItem(Event(job: "v", type: .started, node: "n", id: id), expectedVersion: 5)])
            }
            #expect(try journal.verify().eventIDs == 0)
            let stored = try await journal.appendReportingReplays([AppendItem(Event(job: "v", type: .started, node: "n", id: id), expectedVersion: 1)])
            #expect(!stored.replayed && stored.events.map(\.seq) == [2])
            #expect(try journal.verify().eventIDs == 1)
        }
    }

    /// Concurrent retries of one batch share group commits: exactly one stores it, every other one
    /// is answered with its seqs.
    @Test func concurrentRetriesOfOneBatchStoreItOnce() async throws {
        try await withJournal { journal, _ in
            let ids = Self.ids(4)
            let answers = try await withThrowingTaskGroup(of: AppendedBatch.self) { group in
                for _ in 0..<32 { group.addTask { try await journal.appendReportingReplays(Self.batch(ids)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { !$0.replayed }.count == 1)
            #expect(Set(answers.map { $0.events.map(\.seq) }) == [[1, 2, 3, 4]])
            #expect(try journal.lastSeq() == 4)
            #expect(try journal.verify().eventIDs == 4)
        }
    }

    /// A batch retried within the group that first stores it (two callers in one transaction) is a
    /// replay of that group's own write.
    @Test func aRetryInTheSameGroupSeesTheGroupsOwnWrite() async throws {
        try await withJournal { journal, _ in
            let ids = Self.ids(2)
            var cache = VersionCache()
            let write = try journal.env.write { txn in
                try journal.writeGroup(txn, [Self.batch(ids), Self.batch(ids)], now: Timestamp(microseconds: 1), cache: &cache)
            }
            let results = try write.results.map { try $0.get() }
            #expect(!results[0].replayed && results[1].replayed)
            #expect(results[0].events == results[1].events)
        }
    }

    /// Compaction and archive remove the ids of what they drop: verify stays sound, and a retry of a
    /// dropped event is stored again (documented).
    @Test func compactionDropsTheIdsOfDroppedEvents() async throws {
        let dir = TemporaryDirectory("ids-compact")
        defer { dir.cleanup() }
        let path = dir.file("c.journal")
        let beats = Self.ids(3)
        do {
            let journal = try Journal.open(at: path)
            defer { journal.close() }
            _ = try await journal.append(Event(job: "c", type: .started, node: "n", attempt: 1))
            for id in beats { _ = try await journal.append([AppendItem(Event(job: "c", type: .heartbeat, attempt: 1, id: id))]) }
        }
        _ = try Journal.compact(at: path) { _ in Journal.CompactionPlan(drop: [2, 3]) }
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        #expect(try journal.verify().eventIDs == 1)
        let kept = try await journal.appendReportingReplays([AppendItem(Event(job: "c", type: .heartbeat, attempt: 1, id: beats[2]))])
        #expect(kept.replayed && kept.events.map(\.seq) == [4])
        let dropped = try await journal.appendReportingReplays([AppendItem(Event(job: "c", type: .heartbeat, attempt: 1, id: beats[0]))])
        #expect(!dropped.replayed && dropped.events.map(\.seq) == [5])
        #expect(try journal.verify().eventIDs == 2)
    }

    /// Verify finds an ids table that disagrees with the log, both ways.
    @Test func verifyFindsAMissingAndAWrongIdEntry() async throws {
        try await withJournal { journal, _ in
            let ids = Self.ids(2)
            _ = try await journal.append(Self.batch(ids))
            let idsTable = try #require(journal.ids)
            try journal.env.write { txn in
                _ = try StorageKeys.withIDKey(ids[0]) { try txn.delete(idsTable, key: $0) }
            }
            #expect(throws: JournalError.self) { try journal.verify() }
            try journal.env.write { txn in
                try StorageKeys.withIDKey(ids[0]) { key in try StorageKeys.withSeqKey(2) { try txn.put(idsTable, key: key, value: $0) } }
            }
            do {
                _ = try journal.verify()
                Issue.record("a wrong entry passed")
            } catch {
                #expect("\(error)".contains("event id \(ids[0]) names seq 2"), "\(error)")
            }
        }
    }

    /// Salvage rebuilds the ids table from the records it keeps.
    @Test func salvageKeepsIds() async throws {
        try await withJournal { journal, path in
            let ids = Self.ids(3)
            _ = try await journal.append(Self.batch(ids))
            let copy = path + ".salvaged"
            _ = try journal.salvage(into: copy)
            let salvaged = try Journal.open(at: copy)
            defer { salvaged.close() }
            #expect(try salvaged.verify().eventIDs == 3)
            #expect(try await salvaged.appendReportingReplays(Self.batch(ids)).replayed)
        }
    }

    /// The record format: an id makes a format-2 record with the id right after the job id, read
    /// back by the decoder and the view alike; flag 6 in a format-1 record is corrupt.
    @Test func anIdIsStoredInAFormat2RecordAndRoundTrips() throws {
        let id = EventID(uuid: "0f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60")!
        let event = Event(job: "jøb", type: .progress, index: 3, data: #"{"k":1}"#, id: id)
        var bytes = Journal.encodeRecord(seq: 9, version: 2, appendedAt: Timestamp(microseconds: 5), event: event)
        #expect(bytes[0] == 2)
        #expect(Array(bytes[36..<52]) == [0x0f, 0x8b, 0x2c, 0x1e, 0x6a, 0x4d, 0x4c, 0x1b, 0x9a, 0x52, 0x3e, 0x7d, 0x9f, 0x1a, 0x2b, 0x60])
        let decoded = try bytes.withUnsafeBytes { try Journal.decodeRecord(seq: 9, bytes: $0) }
        #expect(decoded.event == Event(job: "jøb", type: .progress, at: Timestamp(microseconds: 5), index: 3, data: #"{"k":1}"#, id: id))
        bytes[0] = 1
        let crcAt = bytes.count - 4
        let crc = bytes.withUnsafeBytes { RecordFormat.checksum(seq: 9, body: UnsafeRawBufferPointer(rebasing: $0[..<crcAt])) }
        withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[crcAt + i] = b } }
        #expect(throws: JournalError.self) { try bytes.withUnsafeBytes { try Journal.decodeRecord(seq: 9, bytes: $0) } }
    }

    /// The text form: any case in, lower case out; anything but 8-4-4-4-12 hex digits refused.
    @Test(arguments: ["0F8B2C1E-6A4D-4C1B-9A52-3E7D9F1A2B60", "0f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"])
    func uuidTextRoundTrips(_ text: String) {
        #expect(EventID(uuid: text)?.description == text.lowercased())
    }

    @Test(arguments: ["", "0f8b2c1e6a4d4c1b9a523e7d9f1a2b60", "{0f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60}", "0f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b6g", "0f8b2c1e-6a4d-4c1b-9a523-e7d9f1a2b60"])
    func malformedUUIDsAreRefused(_ text: String) {
        #expect(EventID(uuid: text) == nil)
    }
}
