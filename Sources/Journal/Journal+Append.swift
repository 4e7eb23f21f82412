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
    func writeGroup(_ txn: borrowing Transaction, _ batches: [[AppendItem]], now: Timestamp) throws
        -> [Result<[RecordedEvent], JournalError>]
    {
        var seq = try lastAssignedSeq(txn)
        var versions: [String: UInt64] = [:]
        var results: [Result<[RecordedEvent], JournalError>] = []
        results.reserveCapacity(batches.count)
        var indexEntries: [(job: String, entry: StorageKeys.IndexEntry)] = []
        var buffer: [UInt8] = []
        buffer.reserveCapacity(512)

        try txn.withCursor(jobs) { index in
            for batch in batches {
                // Check every expectation before writing anything of this batch.
                var pending: [String: UInt64] = [:]
                var conflict: JournalError?
                for item in batch {
                    let job = item.event.job
                    let current = try pending[job] ?? versions[job] ?? currentVersion(of: job, cursor: index)
                    if pending[job] == nil && versions[job] == nil { versions[job] = current }  // cache the lookup
                    if let expected = item.expectedVersion, expected != current {
                        conflict = .versionConflict(job: job, expected: expected, actual: current)
                        break
                    }
                    pending[job] = current + 1
                }
                if let conflict {
                    results.append(.failure(conflict))
                    continue
                }
                var stored: [RecordedEvent] = []
                stored.reserveCapacity(batch.count)
                for item in batch {
                    seq += 1
                    let job = item.event.job
                    let version = (versions[job] ?? 0) + 1  // every job of the batch was looked up above
                    versions[job] = version
                    var event = item.event
                    if event.at == nil { event.at = now }
                    buffer.removeAll(keepingCapacity: true)
                    RecordFormat.encode(seq: seq, version: version, appendedAt: now, event: event, into: &buffer)
                    try StorageKeys.withSeqKey(seq) { key in
                        try buffer.withUnsafeBytes { value in try txn.put(log, key: key, value: value, flags: .append) }
                    }
                    indexEntries.append((job, StorageKeys.IndexEntry(version: version, seq: seq)))
                    stored.append(RecordedEvent(seq: seq, version: version, appendedAt: now, event: event))
                }
                results.append(.success(stored))
            }
        }
        // Index writes sorted by job touch each B-tree page once per group instead of at random.
        indexEntries.sort { a, b in
            a.job == b.job ? a.entry.version < b.entry.version : a.job.utf8.lexicographicallyPrecedes(b.job.utf8)
        }
        for (job, entry) in indexEntries {
            var job = job
            try job.withUTF8 { key in
                try entry.withBytes { value in
                    try txn.put(jobs, key: UnsafeRawBufferPointer(key), value: value)
                }
            }
        }
        try putMeta(txn, StorageKeys.metaLastSeq, u64: seq, width: 8)
        return results
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
