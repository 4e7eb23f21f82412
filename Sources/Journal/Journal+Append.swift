import ConcurrencyKit
import LMDB
import Lifecycle

extension Journal {
    /// Appends `items` atomically (all or none) and returns them as stored, once they are durable
    /// (per the journal's durability). Concurrent callers share commits (group commit); a conflict
    /// in this batch fails only this batch. `progress`, for a progress bar over a large batch, hears
    /// on the writer thread how many of the events are written so far; its last report comes just
    /// before the commit.
    @discardableResult
    package func append(_ items: [AppendItem], progress: (@Sendable (Int) -> Void)? = nil) async throws(JournalError)
        -> [RecordedEvent]
    {
        try await appendReportingReplays(items, progress: progress).events
    }

    /// `append`, saying whether the batch was a retry whose ids were all stored already (`replayed`:
    /// the events are those the first append stored, and nothing was stored now).
    package func appendReportingReplays(_ items: [AppendItem], progress: (@Sendable (Int) -> Void)? = nil) async throws(JournalError)
        -> AppendedBatch
    {
        try Journal.validate(items)
        let result: Result<AppendedBatch, JournalError> = await withCheckedContinuation { continuation in
            submit(.append(items, progress: progress, { continuation.resume(returning: $0) }))
        }
        return try result.get()
    }

    /// Appends one event.
    @discardableResult
    package func append(_ event: Event, expectedVersion: UInt64? = nil) async throws(JournalError) -> RecordedEvent {
        let stored = try await append([AppendItem(event, expectedVersion: expectedVersion)])
        return stored[0]
    }

    /// The blocking form of `append` for threads that are not in a task (blocks until durable).
    @discardableResult
    package func appendBlocking(_ items: [AppendItem]) throws(JournalError) -> [RecordedEvent] {
        try Journal.validate(items)
        let done = Completion<Result<AppendedBatch, JournalError>>()
        submit(.append(items, { done.fulfil($0) }))
        return try done.wait().get().events
    }

    /// Hands an append to the writer, calling `completion` on the writer thread once it is durable
    /// (or refused). Completions run in seq order, after the commit observers.
    package func submitAppend(
        _ items: [AppendItem], completion: @escaping @Sendable (Result<AppendedBatch, JournalError>) -> Void
    ) {
        do throws(JournalError) {
            try Journal.validate(items)
        } catch {
            completion(.failure(error))
            return
        }
        submit(.append(items, completion))
    }

    func submit(_ request: GroupCommitter.Request) {
        guard let committer = writer.withLock({ $0 }) else {
            request.fail(options.readOnly ? .readOnly : .closed)
            return
        }
        committer.submit(request)
    }

    /// Checks a batch as `append` does before storing anything: not empty, every event valid.
    package static func validate(_ items: [AppendItem]) throws(JournalError) {
        if items.isEmpty { throw .emptyBatch }
        var seen: [EventID: Int] = [:]
        for (i, item) in items.enumerated() {
            do throws(EventValidationError) {
                try item.event.validate()
            } catch {
                throw .invalidEvent(index: i, error)
            }
            if let id = item.event.id, let earlier = seen.updateValue(i, forKey: id) {
                throw .idConflict(id: id, detail: "event \(i + 1) repeats the id of event \(earlier + 1) of the same batch")
            }
        }
    }

    /// Writes a group of batches in one transaction. A batch whose expected versions do not hold is
    /// skipped whole and answered with a conflict; the others are stored.
    ///
    /// Invariants: seqs are contiguous from the last assigned seq; each event's version is its
    /// job's previous version + 1; the index gets exactly one (version, seq) entry per record.
    ///
    /// Each event's job is looked up once, by its bytes, in the writer's interned version cache
    /// (which also tracks the versions this group assigns); each record is encoded straight into
    /// the space LMDB reserves for it. The cache is trusted only if nobody else appended since this
    /// writer's last commit, and the caller drops it when the transaction fails.
    func writeGroup(
        _ txn: borrowing Transaction, _ batches: [[AppendItem]], progress: [(@Sendable (Int) -> Void)?] = [], now: Timestamp,
        cache: inout VersionCache
    ) throws -> GroupWrite
    {
        if let sharedLog = try replicaMarker(txn) {
            throw JournalError.replica(path: path, sharedLog: sharedLog, refused: "a local append")
        }
        var seq = try lastAssignedSeq(txn)
        // A job removed in place (an online archive) since the last group is forgotten: its next
        // event starts it again at version 1.
        let removalGeneration = try readMetaU64(txn, StorageKeys.metaRemovalGeneration) ?? 0
        removalGenerationSeen.store(removalGeneration, ordering: .releasing)
        if cache.lastSeq != seq || cache.removalGeneration != removalGeneration || cache.ids.count > VersionCache.maxJobs {
            cache.clear()
        }
        cache.removalGeneration = removalGeneration
        // Until this transaction commits the cache holds uncommitted versions: mark it untrusted, so a
        // retry of this write (after map growth) or a failed commit starts from the index again.
        cache.lastSeq = .max
        var results: [Result<AppendedBatch, JournalError>] = []
        results.reserveCapacity(batches.count)
        var indexEntries: [(job: UInt32, entry: StorageKeys.IndexEntry)] = []

        // The greatest event id stored, read when a batch with ids first needs it.
        var greatest: EventID?
        var greatestRead = false
        try txn.withCursor(jobs) { index in
            for (b, batch) in batches.enumerated() {
                let report = b < progress.count ? progress[b] : nil
                // Ids first: a retry is answered whatever the expected versions say now.
                let reserved: [EventID]
                if !greatestRead, ids != nil, batch.contains(where: { $0.event.id != nil }) {
                    greatest = try greatestID(txn)
                    greatestRead = true
                }
                switch try reserveIDs(txn, batch, after: seq, greatest: &greatest) {
                case .reserved(let ids): reserved = ids
                case .replay(let events):
                    results.append(.success(AppendedBatch(events: events, replayed: true)))
                    continue
                case .conflict(let error):
                    results.append(.failure(error))
                    continue
                }
                // Check every expectation before writing anything of this batch, assigning versions;
                // a conflict puts back the versions this batch took.
                var keys: [UInt32] = []
                keys.reserveCapacity(batch.count)
                var undo: [(key: UInt32, version: UInt64)] = []
                var conflict: JournalError?
                for item in batch {
                    var job = item.event.job
                    let key = try job.withUTF8 { bytes in
                        try cache.key(of: UnsafeRawBufferPointer(bytes)) { try currentVersion(of: bytes, cursor: index) }
                    }
                    let current = cache.versions[Int(key)]
                    if let expected = item.expectedVersion, expected != current {
                        conflict = .versionConflict(job: item.event.job, expected: expected, actual: current)
                        break
                    }
                    undo.append((key, current))
                    cache.versions[Int(key)] = current + 1
                    keys.append(key)
                }
                if let conflict {
                    for (key, version) in undo.reversed() { cache.versions[Int(key)] = version }
                    try releaseIDs(txn, reserved)
                    results.append(.failure(conflict))
                    continue
                }
                var stored: [RecordedEvent] = []
                stored.reserveCapacity(batch.count)
                for (i, item) in batch.enumerated() {
                    seq += 1
                    let version = undo[i].version + 1
                    var event = item.event
                    if event.at == nil { event.at = now }
                    try StorageKeys.withSeqKey(seq) { key in
                        try txn.putReserving(log, key: key, size: RecordFormat.encodedSize(event), flags: .append) { space in
                            RecordFormat.encode(seq: seq, version: version, appendedAt: now, event: event, into: space)
                        }
                    }
                    indexEntries.append((keys[i], StorageKeys.IndexEntry(version: version, seq: seq)))
                    stored.append(RecordedEvent(seq: seq, version: version, appendedAt: now, event: event))
                    if let report, (i + 1) % 16_384 == 0 { report(i + 1) }
                }
                report?(batch.count)
                results.append(.success(AppendedBatch(events: stored)))
            }
        }
        // Index writes sorted by job touch each B-tree page once per group instead of at random.
        // Comparing the cached 8-byte big-endian prefix first keeps the sort cheap; ties compare in full.
        indexEntries.sort { x, y in
            if x.job == y.job { return x.entry.version < y.entry.version }
            let (px, py) = (cache.prefixes[Int(x.job)], cache.prefixes[Int(y.job)])
            if px != py { return px < py }
            return cache.ids.ids[Int(x.job)].utf8.lexicographicallyPrecedes(cache.ids.ids[Int(y.job)].utf8)
        }
        for (job, entry) in indexEntries {
            var id = cache.ids.ids[Int(job)]
            try id.withUTF8 { key in
                try entry.withBytes { value in
                    try txn.put(jobs, key: UnsafeRawBufferPointer(key), value: value)
                }
            }
        }
        try putMeta(txn, StorageKeys.metaLastSeq, u64: seq, width: 8)
        return GroupWrite(results: results, lastSeq: seq)
    }

    /// The job's version as stored: the version of its last index entry, 0 for a new job.
    func currentVersion(of job: String, cursor: borrowing Cursor) throws -> UInt64 {
        var job = job
        return try job.withUTF8 { key in try currentVersion(of: key, cursor: cursor) }
    }

    func currentVersion(of key: UnsafeBufferPointer<UInt8>, cursor: borrowing Cursor) throws -> UInt64 {
        guard try cursor.get(.set, key: UnsafeRawBufferPointer(key)) != nil,
            let (_, value) = try cursor.get(.lastDup)
        else { return 0 }
        guard let entry = StorageKeys.IndexEntry(value) else {
            throw JournalError.corruptIndex(job: String(decoding: key, as: UTF8.self), detail: "bad entry size")
        }
        return entry.version
    }
}

/// What one group commit wrote: each batch's outcome, and the last seq it assigned.
struct GroupWrite {
    var results: [Result<AppendedBatch, JournalError>]
    var lastSeq: UInt64
}

/// The writer thread's memory of job versions, so appends to known jobs skip the index lookup:
/// job ids interned by their bytes, each with its current version and its 8-byte sort prefix.
/// Valid only while the log's last seq is the one this writer committed last.
struct VersionCache {
    static let maxJobs = 2_000_000
    var lastSeq: UInt64 = .max
    /// The removal generation the cached versions hold for.
    var removalGeneration: UInt64 = 0
    var ids = InternedIDs()
    var versions: [UInt64] = []
    var prefixes: [UInt64] = []

    /// The key of the job with these bytes; a job new to the cache gets its version from `stored`.
    mutating func key(of bytes: UnsafeRawBufferPointer, stored: () throws -> UInt64) rethrows -> UInt32 {
        let (key, inserted) = ids.intern(bytes)
        if inserted {
            versions.append(try stored())
            prefixes.append(StorageKeys.sortPrefix(bytes))
        }
        return key
    }

    mutating func clear() {
        ids.removeAll()
        versions.removeAll(keepingCapacity: true)
        prefixes.removeAll(keepingCapacity: true)
        lastSeq = .max
    }
}
