import LMDB
import Lifecycle

extension Journal {
    /// The highest seq assigned so far (0 for an empty journal).
    package func lastSeq() throws(JournalError) -> UInt64 {
        do { return try env.read { txn in try lastAssignedSeq(txn) } } catch { throw Journal.wrap(error) }
    }

    /// Number of events stored.
    package func eventCount() throws(JournalError) -> Int {
        do { return try env.read { txn in try txn.count(log) } } catch { throw Journal.wrap(error) }
    }

    /// The event stored under `seq`, or `nil` (never assigned, or dropped by compaction).
    package func event(at seq: UInt64) throws(JournalError) -> RecordedEvent? {
        do {
            return try env.read { txn in
                try StorageKeys.withSeqKey(seq) { key in
                    guard let value = try txn.get(log, key: key) else { return nil }
                    return try RecordFormat.decode(seq: seq, bytes: value)
                }
            }
        } catch { throw Journal.wrap(error) }
    }

    /// The number of events ever appended to `job` (0 for an unknown job).
    package func version(of job: String) throws(JournalError) -> UInt64 {
        do {
            return try env.read { txn in try txn.withCursor(jobs) { c in try currentVersion(of: job, cursor: c) } }
        } catch { throw Journal.wrap(error) }
    }

    /// One job's events in log order, read through the per-job index (O(its events)).
    /// `throughSeq` stops after the last event at or before that seq.
    package func events(ofJob job: String, throughSeq: UInt64 = .max) throws(JournalError) -> [RecordedEvent] {
        do {
            return try env.read { txn in
                var result: [RecordedEvent] = []
                var job = job
                try job.withUTF8 { key in
                    try txn.withCursor(jobs) { index in
                        var entry = try index.get(.set, key: UnsafeRawBufferPointer(key)).flatMap { _ in
                            try index.get(.firstDup)
                        }
                        while let (_, value) = entry {
                            guard let e = StorageKeys.IndexEntry(value) else {
                                throw JournalError.corruptIndex(job: String(decoding: key, as: UTF8.self), detail: "bad entry")
                            }
                            if e.seq > throughSeq { break }
                            let record = try StorageKeys.withSeqKey(e.seq) { k in try txn.get(log, key: k) }
                            guard let record else {
                                throw JournalError.corruptIndex(
                                    job: String(decoding: key, as: UTF8.self), detail: "seq \(e.seq) is not in the log")
                            }
                            result.append(try RecordFormat.decode(seq: e.seq, bytes: record))
                            entry = try index.get(.nextDup)
                        }
                    }
                }
                return result
            }
        } catch { throw Journal.wrap(error) }
    }

    /// Events with `from <= seq <= through`, in order.
    package func events(from: UInt64, through: UInt64 = .max, limit: Int = .max) throws(JournalError) -> [RecordedEvent] {
        var result: [RecordedEvent] = []
        try scan(from: from, through: through) { event in
            result.append(event)
            return result.count < limit
        }
        return result
    }

    /// Streams every event with `from <= seq <= through` in order, in constant memory. `body`
    /// returns false to stop. Long scans read in chunks of short read transactions, so they never
    /// pin old pages or hold off map growth; the log is append-only, so the chunks join seamlessly.
    /// `includeData: false` leaves `data` nil (the fold never reads it), saving its copy; the CRC is
    /// still checked over the whole record. Each event is made whole (six strings); `scanViews`
    /// reads in place instead.
    package func scan(
        from: UInt64 = 1, through: UInt64 = .max, chunk: Int = 65_536, includeData: Bool = true,
        _ body: (RecordedEvent) throws -> Bool
    ) throws(JournalError) {
        try scanViews(from: from, through: through, chunk: chunk) { view in
            var view = view
            if !includeData { view.dataBytes = nil }
            return try body(view.recorded)
        }
    }

    /// Streams every record with `from <= seq <= through` as a view over the memory map: its CRC
    /// checked on the raw bytes, its layout checked, scalars decoded, texts left in place. Nothing is
    /// allocated per record. The view is valid only during `body`. `strict` checks what `verify`
    /// checks as well (UTF-8 texts, the event rules). Chunked like `scan`.
    package func scanViews(
        from: UInt64 = 1, through: UInt64 = .max, chunk: Int = 65_536, strict: Bool = false,
        _ body: (EventView) throws -> Bool
    ) throws(JournalError) {
        do {
            try scanRecords(from: from, through: through, chunk: chunk) { seq, bytes in
                try body(try RecordFormat.view(seq: seq, bytes: bytes, strict: strict))
            }
        } catch { throw Journal.wrap(error) }
    }

    /// Streams the records like `scanViews`, handed over in batches of up to `batch` views (valid
    /// only during `body`). A batch lets the caller look ahead: the replay computes every job's
    /// hash first and touches the table slots and states they will need, so the cache misses of a
    /// batch overlap instead of following one another.
    package func scanViewBatches(
        from: UInt64 = 1, through: UInt64 = .max, chunk: Int = 65_536, strict: Bool = false, batch: Int = 32,
        _ body: (UnsafeBufferPointer<EventView>) throws -> Bool
    ) throws(JournalError) {
        var buffer: [EventView] = []
        buffer.reserveCapacity(max(batch, 1))
        do {
            // The batch is handed over when full, and at the end of each chunk, while the chunk's
            // read transaction still holds the map.
            try scanRecords(
                from: from, through: through, chunk: chunk,
                endOfChunk: { try Journal.handOver(&buffer, to: body) }
            ) { seq, bytes in
                buffer.append(try RecordFormat.view(seq: seq, bytes: bytes, strict: strict))
                return buffer.count < batch ? true : try Journal.handOver(&buffer, to: body)
            }
        } catch { throw Journal.wrap(error) }
    }

    /// Hands the views gathered so far to `body` (if any) and empties `buffer`; `body`'s answer.
    private static func handOver(
        _ buffer: inout [EventView], to body: (UnsafeBufferPointer<EventView>) throws -> Bool
    ) throws -> Bool {
        guard !buffer.isEmpty else { return true }
        defer { buffer.removeAll(keepingCapacity: true) }
        return try buffer.withUnsafeBufferPointer(body)
    }

    /// The first and last seq in the log of this snapshot ((1, 0) when it is empty).
    func logBounds(_ txn: borrowing Transaction) throws -> (first: UInt64, last: UInt64) {
        try txn.withCursor(log) { c in
            guard let (firstKey, _) = try c.get(.first), let (lastKey, _) = try c.get(.last) else { return (1, 0) }
            guard let first = StorageKeys.seq(fromKey: firstKey), let last = StorageKeys.seq(fromKey: lastKey) else {
                let k = StorageKeys.seq(fromKey: firstKey) == nil ? firstKey : lastKey
                throw JournalError.corruptRecord(seq: 0, detail: "a log key of \(k.count) bytes")
            }
            return (first, last)
        }
    }

    /// The first and last seq in the log now ((1, 0) when it is empty).
    func seqBounds() throws(JournalError) -> (first: UInt64, last: UInt64) {
        do {
            return try env.read { txn in try logBounds(txn) }
        } catch {
            throw Journal.wrap(error)
        }
    }

    /// Visits raw records (seq, bytes valid only during the call) in seq order, chunked like `scan`.
    /// `endOfChunk` runs inside each chunk's read transaction after its last record (false stops).
    func scanRecords(
        from: UInt64, through: UInt64 = .max, chunk: Int = 65_536, endOfChunk: () throws -> Bool = { true },
        _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var next = max(from, 1)
        while next <= through {
            // The span of the map this chunk touched, released from our resident set afterwards.
            var lowest = UInt.max
            var highest: UInt = 0
            defer {
                if highest > lowest, let from = UnsafeRawPointer(bitPattern: lowest),
                    let through = UnsafeRawPointer(bitPattern: highest)
                {
                    env.releaseResidentPages(from: from, through: through)
                }
            }
            let (resume, stopped): (UInt64?, Bool) = try env.read { txn in
                try txn.withCursor(log) { c in
                    var entry = try StorageKeys.withSeqKey(next) { k in try c.get(.setRange, key: k) }
                    var n = 0
                    while let (k, v) = entry {
                        guard let seq = StorageKeys.seq(fromKey: k) else {
                            throw JournalError.corruptRecord(seq: next, detail: "log key of \(k.count) bytes")
                        }
                        if seq > through { return (nil, try !endOfChunk()) }
                        if let start = v.baseAddress {
                            lowest = min(lowest, UInt(bitPattern: start))
                            highest = max(highest, UInt(bitPattern: start + v.count))
                        }
                        if try !body(seq, v) { return (nil, true) }
                        n += 1
                        if n >= chunk { return (seq + 1, try !endOfChunk()) }
                        entry = try c.get(.next)
                    }
                    return (nil, try !endOfChunk())
                }
            }
            guard let resume, !stopped else { return }
            next = resume
        }
    }

    /// Every job id in the index, in byte order.
    package func jobIDs() throws(JournalError) -> [String] {
        do {
            return try env.read { txn in
                try txn.withCursor(jobs) { c in
                    var ids: [String] = []
                    var entry = try c.get(.first)
                    while let (k, _) = entry {
                        ids.append(String(decoding: k, as: UTF8.self))
                        entry = try c.get(.nextNoDup)
                    }
                    return ids
                }
            }
        } catch { throw Journal.wrap(error) }
    }
}
