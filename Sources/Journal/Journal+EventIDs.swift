import LMDB
import Lifecycle

/// What one batch of a group commit became: the events it stored, or, for a retry whose ids are all
/// stored already (`replayed`), the events the first append stored, unchanged.
package struct AppendedBatch: Sendable {
    package var events: [RecordedEvent]
    package var replayed: Bool
    package init(events: [RecordedEvent], replayed: Bool = false) { (self.events, self.replayed) = (events, replayed) }
}

/// Event ids (docs/service.md, "Retries and event ids"): the `ids` table maps each id a client gave
/// to the seq of its event, and the group's write transaction consults it before anything else, so
/// two concurrent retries of one batch store it once, and a retry after a crash stores nothing again.
///
/// | the batch's ids                                         | answer                                  |
/// |---------------------------------------------------------|-----------------------------------------|
/// | none (no event has an id)                               | stored as usual                         |
/// | none of them stored                                     | stored; each id → its seq               |
/// | all stored, each for the same event (`at` only if given) | replayed: the stored events, nothing new |
/// | some stored, some new (or an event without an id)       | `idConflict`, nothing stored            |
/// | one stored for another event (job, type, fields)        | `idConflict`, nothing stored            |
/// | one repeated within the batch                           | `idConflict`, nothing stored            |
extension Journal {
    enum IDReservation {
        /// None of the batch's ids was stored: each now names the seq its event will get.
        case reserved([EventID])
        case replay([RecordedEvent])
        case conflict(JournalError)
    }

    /// The common case in one B-tree operation per id: stores each id of `batch` with the seq its
    /// event will get (the seqs after `last`, in order) unless it is there already (`MDB_NOOVERWRITE`).
    /// At the first id found stored, takes back what it stored and reads the batch's ids the slow way
    /// (`checkIDs`): a replay or a conflict.
    ///
    /// `greatest` is the greatest id in the table (read once per group, `greatestID`, and kept up to
    /// date here): an id above it cannot be stored already and goes at the table's end
    /// (`MDB_APPEND`: no search, and pages filled whole), as time-ordered ids from one client do.
    func reserveIDs(
        _ txn: borrowing Transaction, _ batch: [AppendItem], after last: UInt64, greatest: inout EventID?
    ) throws -> IDReservation {
        guard let ids, batch.contains(where: { $0.event.id != nil }) else { return .reserved([]) }
        var reserved: [EventID] = []
        reserved.reserveCapacity(batch.count)
        for (i, item) in batch.enumerated() {
            guard let id = item.event.id else { continue }
            do {
                try StorageKeys.withIDKey(id) { key in
                    try StorageKeys.withSeqKey(last + UInt64(i) + 1) { seq in
                        if greatest.map({ id > $0 }) ?? true {
                            do {
                                try txn.put(ids, key: key, value: seq, flags: .append)
                                greatest = id
                                return
                            } catch let error as LMDBError where error == .keyExists {}  // not at the end after all: search
                        }
                        try txn.put(ids, key: key, value: seq, flags: .noOverwrite)
                    }
                }
                reserved.append(id)
            } catch let error as LMDBError where error == .keyExists {
                try releaseIDs(txn, reserved)
                switch try checkIDs(txn, batch) {
                case .replay(let events): return .replay(events)
                case .conflict(let error): return .conflict(error)
                case .fresh: throw JournalError.corruptIndex(job: item.event.job, detail: "event id \(id) is in the ids table and yet not")
                }
            }
        }
        return .reserved(reserved)
    }

    /// The greatest id stored (nil: none), for `reserveIDs`.
    func greatestID(_ txn: borrowing Transaction) throws -> EventID? {
        guard let ids else { return nil }
        return try txn.withCursor(ids) { c in try c.get(.last).flatMap { StorageKeys.id(fromKey: $0.0) } }
    }

    /// Takes back ids reserved for a batch that is not stored after all (a version conflict).
    func releaseIDs(_ txn: borrowing Transaction, _ reserved: [EventID]) throws {
        guard let ids else { return }
        for id in reserved { _ = try StorageKeys.withIDKey(id) { key in try txn.delete(ids, key: key) } }
    }

    enum IDCheck {
        case fresh
        case replay([RecordedEvent])
        case conflict(JournalError)
    }

    /// Reads the batch's ids in the write transaction `txn` (which sees the group's earlier batches).
    func checkIDs(_ txn: borrowing Transaction, _ batch: [AppendItem]) throws -> IDCheck {
        guard let ids, batch.contains(where: { $0.event.id != nil }) else { return .fresh }
        var stored: [(index: Int, id: EventID, seq: UInt64)] = []
        var unstored: [Int] = []
        for (i, item) in batch.enumerated() {
            guard let id = item.event.id else {
                unstored.append(i)
                continue
            }
            let seq = try StorageKeys.withIDKey(id) { key in try txn.get(ids, key: key) }.flatMap(StorageKeys.seq(fromKey:))
            if let seq { stored.append((i, id, seq)) } else { unstored.append(i) }
        }
        guard let first = stored.first else { return .fresh }
        if let other = unstored.first {
            let what = batch[other].event.id.map { "its id \($0) is new" } ?? "it has no id"
            return .conflict(
                .idConflict(
                    id: first.id,
                    detail: "event \(first.index + 1) was stored already (seq \(first.seq)) but event \(other + 1) was not "
                        + "(\(what)): a retry must repeat its batch exactly, ids included"))
        }
        var events: [RecordedEvent] = []
        events.reserveCapacity(stored.count)
        for (index, id, seq) in stored {
            guard let bytes = try StorageKeys.withSeqKey(seq, { key in try txn.get(log, key: key) }) else {
                throw JournalError.corruptIndex(job: batch[index].event.job, detail: "event id \(id) names seq \(seq), which the log lacks")
            }
            let recorded = try RecordFormat.decode(seq: seq, bytes: bytes)
            guard Journal.isSameEvent(recorded.event, as: batch[index].event) else {
                return .conflict(
                    .idConflict(
                        id: id,
                        detail: "it was stored for another event (seq \(seq): job \"\(recorded.event.job)\", type "
                            + "\(recorded.event.type.name)) than event \(index + 1) (job \"\(batch[index].event.job)\", type "
                            + "\(batch[index].event.type.name))"))
            }
            events.append(recorded)
        }
        return .replay(events)
    }

    /// The events a retry of `items` would be answered with, read from the journal (a shared log's
    /// replica, before committing there): nil when none of the ids is stored here; `idConflict` for
    /// a mixed batch or an id stored for another event.
    package func storedEvents(forIDsOf items: [AppendItem]) throws(JournalError) -> [RecordedEvent]? {
        do {
            let check = try env.read { txn in try checkIDs(txn, items) }
            switch check {
            case .fresh: return nil
            case .replay(let events): return events
            case .conflict(let error): throw error
            }
        } catch {
            throw Journal.wrap(error)
        }
    }

    /// Whether `given` is the event stored as `stored`: every field equal, `at` only when the retry
    /// gives one (the first append may have left it to the journal's clock).
    package static func isSameEvent(_ stored: Event, as given: Event) -> Bool {
        var given = given
        if given.at == nil { given.at = stored.at }
        return stored == given
    }

    /// Records the ids of events just written in `txn`.
    func putIDs(_ txn: borrowing Transaction, _ events: [RecordedEvent]) throws {
        guard let ids else { return }
        for recorded in events {
            guard let id = recorded.event.id else { continue }
            try StorageKeys.withIDKey(id) { key in
                try StorageKeys.withSeqKey(recorded.seq) { seq in try txn.put(ids, key: key, value: seq) }
            }
        }
    }

    /// Removes the ids of records being dropped (compaction, archive), so the ids table names only
    /// stored events: a retry of a dropped event is then stored again (docs/cli.md).
    static func deleteID(of bytes: UnsafeRawBufferPointer, seq: UInt64, _ txn: borrowing Transaction, ids: Database?) throws {
        guard let ids, let id = try RecordFormat.view(seq: seq, bytes: bytes).id else { return }
        _ = try StorageKeys.withIDKey(id) { key in try txn.delete(ids, key: key) }
    }
}
