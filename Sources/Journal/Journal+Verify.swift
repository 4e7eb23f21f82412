import LMDB
import Lifecycle

extension Journal {
    /// What `verify` checked.
    public struct VerifyReport: Sendable {
        public var records: Int
        public var jobs: Int
        public var indexEntries: Int
    }

    /// Checks every record's CRC and format, that each stored event keeps the event rules (so sound
    /// means exportable and re-ingestable), and the per-job index against the log: every record has
    /// exactly its (version, seq) entry under its job, versions grow with seqs, and no entry points
    /// nowhere. Throws the first problem (naming the seq or job). One read snapshot throughout.
    /// `visit` sees every record, checked, as a view in seq order, so callers can fold in the same pass.
    public func verify(progress: (Int) -> Void = { _ in }, visit: (EventView) -> Void = { _ in })
        throws(JournalError) -> VerifyReport
    {
        do {
            return try env.read { txn in
                let indexEntries = try txn.count(jobs)
                var records = 0
                // Each job's last version, by interned key (no string per record).
                var ids = InternedIDs()
                var lastVersion: [UInt64] = []
                try txn.withCursor(log) { logCursor in
                    try txn.withCursor(jobs) { index in
                        var entry = try logCursor.get(.first)
                        while let (k, v) = entry {
                            guard let seq = StorageKeys.seq(fromKey: k) else {
                                throw JournalError.corruptRecord(seq: 0, detail: "a log key of \(k.count) bytes")
                            }
                            let e = try RecordFormat.view(seq: seq, bytes: v, strict: true)
                            let (key, inserted) = ids.intern(e.job)
                            if inserted {
                                lastVersion.append(e.version)
                            } else {
                                let previous = lastVersion[Int(key)]
                                if previous >= e.version {
                                    throw JournalError.corruptIndex(
                                        job: e.jobString, detail: "seq \(seq) has version \(e.version) after version \(previous)")
                                }
                                lastVersion[Int(key)] = e.version
                            }
                            let found = try StorageKeys.IndexEntry(version: e.version, seq: seq).withBytes { value in
                                try index.get(.getBoth, key: e.job, value: value) != nil
                            }
                            if !found {
                                throw JournalError.corruptIndex(
                                    job: e.jobString, detail: "no index entry for seq \(seq) (version \(e.version))")
                            }
                            visit(e)
                            records += 1
                            if records % 65_536 == 0 { progress(records) }
                            entry = try logCursor.get(.next)
                        }
                    }
                }
                if indexEntries != records {
                    // Some entry points at no record: find it for the message.
                    try txn.withCursor(jobs) { index in
                        var entry = try index.get(.first)
                        while let (k, v) = entry {
                            let job = String(decoding: k, as: UTF8.self)
                            guard let e = StorageKeys.IndexEntry(v) else {
                                throw JournalError.corruptIndex(job: job, detail: "an entry of \(v.count) bytes")
                            }
                            let present = try StorageKeys.withSeqKey(e.seq) { key in try txn.get(log, key: key) != nil }
                            if !present { throw JournalError.corruptIndex(job: job, detail: "entry for seq \(e.seq), which is not in the log") }
                            entry = try index.get(.next)
                        }
                    }
                    throw JournalError.corruptIndex(job: "?", detail: "\(indexEntries) index entries for \(records) records")
                }
                progress(records)
                return VerifyReport(records: records, jobs: ids.count, indexEntries: indexEntries)
            }
        } catch {
            throw Journal.wrap(error)
        }
    }
}
