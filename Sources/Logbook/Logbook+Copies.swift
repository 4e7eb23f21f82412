import Journal
import Lifecycle

/// Keeping a journal healthy for years: a verified hot backup and a salvage of what survived damage
/// (docs/operations.md); retention is in Logbook+Archive.swift.
extension Logbook.Maintenance {
    /// What `backup` wrote.
    public struct BackupReport: Sendable {
        public var path: String
        public var bytes: Int
        /// The copy's own `verify`: its records, jobs and the last seq it covers.
        public var verified: VerifyReport
    }

    /// Writes a consistent, compacted copy of the journal at `path` to `destination` (which must not
    /// exist), while other processes may go on appending: LMDB copies under one read transaction,
    /// so the copy is the journal as of one commit. The copy is verified (CRCs, index, snapshot
    /// against a full replay) before it is published under its name; a kill at any moment leaves no
    /// destination or the complete, verified one, and never changes the journal.
    public static func backup(at path: String, to destination: String) throws -> BackupReport {
        try Journal.prepareCopy(to: destination)
        let stage = Journal.stagingPath(for: destination)
        do {
            let journal = try Journal.open(at: path, options: .forReading)
            defer { journal.close() }
            try journal.copyCompacted(to: stage)
        }
        do {
            let verified = try verify(at: stage)
            try Journal.publishCopy(stage, as: destination)
            return BackupReport(path: destination, bytes: Journal.fileSizeOf(destination), verified: verified)
        } catch {
            Journal.discardCopy(stage)
            throw error
        }
    }

    /// What `salvage` kept, lost and wrote.
    public struct SalvageReport: Sendable {
        public var path: String
        public var bytes: Int
        public var copy: SalvagedRecords
        /// The new journal's own `verify`.
        public var verified: VerifyReport
    }

    /// Copies every record of the journal at `path` whose checksum and format hold into a new journal
    /// at `destination` (which must not exist), keeping each seq, version and byte; lists every lost
    /// seq with its job. The new journal gets a fresh snapshot and is verified before it is published.
    /// The damaged journal is only read.
    public static func salvage(at path: String, to destination: String) async throws -> SalvageReport {
        try Journal.prepareCopy(to: destination)
        let stage = Journal.stagingPath(for: destination)
        do {
            let copy: SalvagedRecords
            do {
                let source = try Journal.open(at: path, options: .forReading)
                defer { source.close() }
                copy = try source.salvage(into: stage)
            }
            var options = Logbook.Options()
            options.create = false
            options.snapshotEvery = nil
            options.foreignAppendPollInterval = nil
            let salvaged = try Logbook.open(at: stage, options: options)
            do {
                defer { salvaged.close() }
                try await salvaged.snapshot()
            }
            let verified = try verify(at: stage)
            try Journal.publishCopy(stage, as: destination)
            return SalvageReport(path: destination, bytes: Journal.fileSizeOf(destination), copy: copy, verified: verified)
        } catch {
            Journal.discardCopy(stage)
            throw error
        }
    }
}
