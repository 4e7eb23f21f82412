import LMDB
import Lifecycle

extension Journal {
    /// Appends `items` atomically (all or none) and returns them as stored, once they are durable
    /// (per the journal's durability). Concurrent callers share commits (group commit); a conflict
    /// in this batch fails only this batch.
    @discardableResult
    public func append(_ items: [AppendItem]) async throws(JournalError) -> [RecordedEvent] {
        try Journal.validate(items)
        let result: Result<[RecordedEvent], JournalError> = await withCheckedContinuation { continuation in
            submit(.append(items, { continuation.resume(returning: $0) }))
        }
        return try result.get()
    }

    /// Appends one event.
    @discardableResult
    public func append(_ event: Event, expectedVersion: UInt64? = nil) async throws(JournalError) -> RecordedEvent {
        let stored = try await append([AppendItem(event, expectedVersion: expectedVersion)])
        return stored[0]
    }

    /// The blocking form of `append` for threads that are not in a task (blocks until durable).
    @discardableResult
    public func appendBlocking(_ items: [AppendItem]) throws(JournalError) -> [RecordedEvent] {
        try Journal.validate(items)
        let done = Completion<Result<[RecordedEvent], JournalError>>()
        submit(.append(items, { done.fulfil($0) }))
        return try done.wait().get()
    }

    /// Hands an append to the writer, calling `completion` on the writer thread once it is durable
    /// (or refused). Completions run in seq order, after the commit observers.
    public func submitAppend(
        _ items: [AppendItem], completion: @escaping @Sendable (Result<[RecordedEvent], JournalError>) -> Void
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

    static func validate(_ items: [AppendItem]) throws(JournalError) {
        if items.isEmpty { throw .emptyBatch }
        for (i, item) in items.enumerated() {
            do throws(EventValidationError) {
                try item.event.validate()
            } catch {
                throw .invalidEvent(index: i, error)
            }
        }
    }

    /// Writes a group of batches in one transaction. A batch whose expected versions do not hold is
    /// skipped whole and answered with a conflict; the others are stored.
    ///
    /// Invariants: seqs are contiguous from the last assigned seq; each event's version is its
    /// job's previous version + 1; the index gets exactly one (version, seq) entry per record.
    func writeGroup(_ txn: borrowing Transaction, _ batches: [[AppendItem]], now: Timestamp, cache: VersionCache) throws
        -> GroupWrite
    {
        var seq = try lastAssignedSeq(txn)
        // The writer's cache of job versions holds only if nobody else appended since our last commit.
        let cacheValid = cache.lastSeq == seq
        var versions: [ExactID: UInt64] = [:]
        var results: [Result<[RecordedEvent], JournalError>] = []
        results.reserveCapacity(batches.count)
        var indexEntries: [(job: String, entry: StorageKeys.IndexEntry)] = []
        var buffer: [UInt8] = []
        buffer.reserveCapacity(512)

        try txn.withCursor(jobs) { index in
            for batch in batches {
                // Check every expectation before writing anything of this batch, assigning versions.
                var next: [ExactID: UInt64] = [:]
                var assigned: [UInt64] = []
                assigned.reserveCapacity(batch.count)
                var conflict: JournalError?
                for item in batch {
                    let job = ExactID(item.event.job)
                    let current: UInt64
                    if let v = next[job] {
                        current = v
                    } else {
                        current = try versions[job] ?? (cacheValid ? cache.versions[job] : nil)
                            ?? currentVersion(of: job.string, cursor: index)
                    }
                    if let expected = item.expectedVersion, expected != current {
                        conflict = .versionConflict(job: job.string, expected: expected, actual: current)
                        break
                    }
                    next[job] = current + 1
                    assigned.append(current + 1)
                }
                if let conflict {
                    results.append(.failure(conflict))
                    continue
                }
                versions.merge(next) { _, new in new }
                var stored: [RecordedEvent] = []
                stored.reserveCapacity(batch.count)
                for (i, item) in batch.enumerated() {
                    seq += 1
                    let version = assigned[i]
                    var event = item.event
                    if event.at == nil { event.at = now }
                    buffer.removeAll(keepingCapacity: true)
                    RecordFormat.encode(seq: seq, version: version, appendedAt: now, event: event, into: &buffer)
                    try StorageKeys.withSeqKey(seq) { key in
                        try buffer.withUnsafeBytes { value in try txn.put(log, key: key, value: value, flags: .append) }
                    }
                    indexEntries.append((event.job, StorageKeys.IndexEntry(version: version, seq: seq)))
                    stored.append(RecordedEvent(seq: seq, version: version, appendedAt: now, event: event))
                }
                results.append(.success(stored))
            }
        }
        // Index writes sorted by job touch each B-tree page once per group instead of at random.
        // Comparing an 8-byte big-endian prefix first keeps the sort cheap; ties compare in full.
        var order = indexEntries.indices.map { (prefix: StorageKeys.sortPrefix(indexEntries[$0].job), at: $0) }
        order.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            let x = indexEntries[a.at]
            let y = indexEntries[b.at]
            if x.job.hasSameBytes(as: y.job) { return x.entry.version < y.entry.version }
            return x.job.utf8.lexicographicallyPrecedes(y.job.utf8)
        }
        for (_, at) in order {
            var (job, entry) = indexEntries[at]
            try job.withUTF8 { key in
                try entry.withBytes { value in
                    try txn.put(jobs, key: UnsafeRawBufferPointer(key), value: value)
                }
            }
        }
        try putMeta(txn, StorageKeys.metaLastSeq, u64: seq, width: 8)
        return GroupWrite(results: results, versions: versions, cacheWasValid: cacheValid, lastSeq: seq)
    }

    /// The job's version as stored: the version of its last index entry, 0 for a new job.
    func currentVersion(of job: String, cursor: borrowing Cursor) throws -> UInt64 {
        var job = job
        return try job.withUTF8 { key throws -> UInt64 in
            guard try cursor.get(.set, key: UnsafeRawBufferPointer(key)) != nil,
                let (_, value) = try cursor.get(.lastDup)
            else { return 0 }
            guard let entry = StorageKeys.IndexEntry(value) else {
                throw JournalError.corruptIndex(job: String(decoding: key, as: UTF8.self), detail: "bad entry size")
            }
            return entry.version
        }
    }
}

/// What one group commit wrote: each batch's outcome, and the job versions it set (for the cache).
struct GroupWrite {
    var results: [Result<[RecordedEvent], JournalError>]
    var versions: [ExactID: UInt64]
    var cacheWasValid: Bool
    var lastSeq: UInt64
}

/// The writer thread's memory of job versions, so appends to known jobs skip the index lookup.
/// Valid only while the log's last seq is the one this writer committed last.
struct VersionCache {
    static let maxJobs = 2_000_000
    var lastSeq: UInt64 = .max
    var versions: [ExactID: UInt64] = [:]

    mutating func absorb(_ write: GroupWrite) {
        if !write.cacheWasValid || versions.count > VersionCache.maxJobs { versions.removeAll(keepingCapacity: true) }
        versions.merge(write.versions) { _, new in new }
        lastSeq = write.lastSeq
    }
}
