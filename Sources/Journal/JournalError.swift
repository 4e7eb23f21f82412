import LMDB
import Lifecycle

/// Everything the journal can refuse or detect. Each case carries what a person needs to act.
public enum JournalError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The expected version of `job` did not match; nothing of the batch was stored.
    case versionConflict(job: String, expected: UInt64, actual: UInt64)
    /// Event number `index` (from 0) of a batch failed validation; nothing was stored.
    case invalidEvent(index: Int, EventValidationError)
    /// An event id that a retry cannot be answered by (docs/service.md, "Retries and event ids"): it
    /// was stored for another event, or the batch mixes stored ids with new ones. Nothing was stored.
    case idConflict(id: EventID, detail: String)
    /// A batch with no events: there is nothing to store and no state to answer with.
    case emptyBatch
    /// A stored record failed its checksum or could not be parsed.
    case corruptRecord(seq: UInt64, detail: String)
    /// A stored record, snapshot or journal was written by an unknown (newer) format.
    case unknownFormat(what: String, version: Int)
    /// The per-job index disagrees with the log.
    case corruptIndex(job: String, detail: String)
    case notFound(path: String)
    /// A file a copy (backup, salvage, archive bundle) would create exists already; nothing is overwritten.
    case exists(path: String)
    case notAJournal(path: String, detail: String)
    /// Another process has the journal open and the operation needs it alone.
    case inUse(path: String)
    /// Another process holds the journal alone (a compaction is running).
    case busy(path: String)
    /// Another process serves this journal (`logbook serve`); only one service may own a journal.
    case alreadyServed(path: String)
    /// Another process is running an online archive of this journal (only one at a time).
    case maintenanceRunning(path: String)
    /// The journal is a replica of a shared log (docs/scale-out.md): only that log's records are
    /// applied to it; appends and event-removing maintenance go through the shared log.
    case replica(path: String, sharedLog: String, refused: String)
    /// The journal cannot follow this shared log: it holds events of its own, or follows another log.
    case notAReplica(path: String, sharedLog: String, detail: String)
    /// The shared log could not be reached or answered an error; nothing was acknowledged.
    case sharedLog(String)
    case readOnly
    case closed
    case lmdb(LMDBError)
    case io(path: String, errno: Int32, detail: String)
    /// The filesystem holding the journal is full (or the user's quota, or the file size limit, is
    /// reached): a write of about `needed` bytes was refused and nothing of it was stored, while
    /// `free` bytes were left (nil: not known, as for a shared log's server, whose path this is).
    /// Appends work again once space is freed; nothing needs reopening.
    case storageFull(path: String, needed: Int, free: Int?, cause: String)
    /// A write failed at the device (an I/O error, or a filesystem remounted read-only; not a full
    /// one). `stored` is false when LMDB failed before writing the commit's meta page (nothing of the
    /// write was stored), nil when the meta page's own write failed (whether it was stored is known
    /// only after reopening). Either way the journal accepts no more writes until it is reopened
    /// (docs/architecture.md, "A failing disk").
    case writeFailed(path: String, cause: String, stored: Bool?)
    /// A write refused because an earlier one failed at the device (`writeFailed`): nothing of it
    /// was stored. Reopen the journal (restart the process) to write again.
    case writesStopped(path: String, cause: String)
    /// A compaction's copy could not be written or swapped in for a failing device (`EIO`, `EROFS`).
    /// `swapped` false: the journal is unchanged (the partial copy is removed). `swapped` true: the
    /// copy replaced the journal but the rename could not be made durable, so after a crash either
    /// the old or the new journal is found; both are sound and hold every kept event.
    case copyFailed(path: String, copy: String, cause: String, swapped: Bool)

    public var description: String {
        switch self {
        case .versionConflict(let job, let expected, let actual):
            "version conflict on job \(job): expected version \(expected), actual version \(actual)"
        case .invalidEvent(let index, let error): "event \(index + 1): \(error)"
        case .idConflict(let id, let detail): "event id \(id): \(detail); nothing was stored"
        case .emptyBatch: "an append needs at least one event"
        case .corruptRecord(let seq, let detail): "corrupt record at seq \(seq): \(detail)"
        case .unknownFormat(let what, let version): "\(what) has unknown format version \(version)"
        case .corruptIndex(let job, let detail): "corrupt per-job index for job \(job): \(detail)"
        case .notFound(let path): "no journal at \(path)"
        case .exists(let path): "\(path) exists already; choose a new name or remove it first (nothing was overwritten)"
        case .notAJournal(let path, let detail): "\(path) is not a Logbook journal: \(detail)"
        case .inUse(let path): "journal \(path) is open in another process; stop it and retry"
        case .busy(let path): "journal \(path) is being compacted by another process; retry when it finishes"
        case .alreadyServed(let path):
            "journal \(path) is already served by another process; only one service may own a journal "
                + "(CLI reads and appends work beside it)"
        case .maintenanceRunning(let path):
            "journal \(path) is being archived by another process; retry when it finishes (appends and reads go on meanwhile)"
        case .replica(let path, let sharedLog, let refused):
            "journal \(path) is a replica of \(sharedLog): \(refused) is refused; write through the shared log "
                + "(logbook --postgres URL …), which every replica follows"
        case .notAReplica(let path, let sharedLog, let detail):
            "journal \(path) cannot be a replica of \(sharedLog): \(detail); use a new (or empty) journal for a node"
        case .sharedLog(let detail): "shared log: \(detail) (nothing was acknowledged)"
        case .readOnly: "the journal is open read-only"
        case .closed: "the journal is closed"
        case .lmdb(let error): error.description
        case .io(let path, let errno, let detail): "\(path): \(detail) (errno \(errno))"
        case .storageFull(let path, let needed, let free, let cause):
            "journal \(path): the filesystem is full (\(free.map { "\($0) bytes free; " } ?? "")the write failed with: \(cause)): a write of about "
                + "\(needed) bytes was refused and nothing of it was stored; free some space (or grow the filesystem) and retry"
        case .writeFailed(let path, let cause, let stored):
            "journal \(path): a write failed at the device (\(cause)); "
                + (stored == false
                    ? "nothing of it was stored. "
                    : "it may or may not be stored: reopen the journal and read it back before writing it again. ")
                + "The journal accepts no more writes until it is reopened (restart the process; check the device first)"
        case .copyFailed(let path, let copy, let cause, let swapped):
            swapped
                ? "journal \(path): the compacted copy replaced it, but making the rename durable failed (\(cause)): the "
                    + "compaction may or may not be stored; the old and the new journal are both sound. Check the device first"
                : "journal \(path): writing its compacted copy \(copy) failed at the device (\(cause)); nothing of it was "
                    + "stored: the journal is unchanged and the partial copy removed. Check the device, then retry"
        case .writesStopped(let path, let cause):
            "journal \(path): writes are stopped since an earlier write failed at the device (\(cause)); nothing of this "
                + "one was stored. Reopen the journal (restart the process; check the device first)"
        }
    }
}
