import ConcurrencyKit
import Lifecycle

extension Journal {
    /// Writes events as JSON Lines in the ingest format (`Event.jsonLine`, one per line) in seq order,
    /// handing `write` chunks of about 64 KiB; returns how many events it wrote.
    ///
    /// With no `jobs` and no window: every event there is when the export begins, read from the
    /// map without a string per record (with a second core, the two cores write alternate ranges).
    /// Otherwise: the full history of each job in `jobs`, and of every job with an event whose `at`
    /// lies in `since...until` (either end may be open), merged back into log order.
    @discardableResult
    package func exportJSONLines(
        jobs: [String] = [], since: Timestamp? = nil, until: Timestamp? = nil,
        _ write: (UnsafeRawBufferPointer) -> Void
    ) throws(JournalError) -> Int {
        if jobs.isEmpty && since == nil && until == nil {
            var written = 0
            // The log (as it is now) is cut into ranges of seqs, written (on two threads with a
            // second core) and handed to `write` in order.
            let (first, last) = try seqBounds()
            let parts = last < first ? 0 : Int((last - first) / Journal.exportPartSeqs) + 1
            try InterleavedParts.run(count: parts) { [self] (part: Int, reuse: (JSONBytes, Int)?) -> Result<(JSONBytes, Int), JournalError> in
                let from = first + UInt64(part) * Journal.exportPartSeqs
                var lines = reuse?.0 ?? JSONBytes(capacity: Int(Journal.exportPartSeqs) * 160)
                lines.removeAll()
                var n = 0
                do throws(JournalError) {
                    try scanViews(from: from, through: min(last, from + Journal.exportPartSeqs - 1)) { view in
                        view.appendJSONLine(to: &lines)
                        lines.append(raw: "\n")
                        n += 1
                        return true
                    }
                } catch {
                    return .failure(error)
                }
                return .success((lines, n))
            } use: { (part: (lines: JSONBytes, count: Int)) in
                let (lines, n) = part
                lines.withUnsafeBytes { bytes in
                    var start = 0
                    while start < bytes.count {
                        let end = min(bytes.count, start + Journal.exportChunk)
                        write(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                        start = end
                    }
                }
                written += n
                return true
            }
            return written
        }
        var out = JSONBytes(capacity: Journal.exportChunk + 4096)
        var selected = Set(jobs.map { ExactID($0) })  // a job is its bytes
        if since != nil || until != nil {
            var inWindow = InternedIDs()  // one string per job, not per event
            try scanViews { view in
                if let since, view.at < since { return true }
                if let until, view.at > until { return true }
                _ = inWindow.intern(view.job)
                return true
            }
            // With jobs too, both filters hold (AND): those jobs, if they have an event in the window.
            let windowJobs = Set(inWindow.ids.map { ExactID($0) })
            selected = jobs.isEmpty ? windowJobs : selected.intersection(windowJobs)
        }
        var events: [RecordedEvent] = []
        for job in selected { events.append(contentsOf: try self.events(ofJob: job.string)) }
        events.sort { $0.seq < $1.seq }
        for event in events {
            event.event.appendJSONLine(to: &out)
            out.append(raw: "\n")
            Journal.hand(&out, to: write, atLeast: Journal.exportChunk)
        }
        Journal.hand(&out, to: write, atLeast: 1)
        return events.count
    }

    static let exportChunk = 1 << 16
    /// Seqs per part when export writes on two threads (about 500 KiB of JSON each).
    static let exportPartSeqs: UInt64 = 4_096

    /// Hands what `out` holds to `write` and empties it, once it holds at least `minimum` bytes.
    private static func hand(_ out: inout JSONBytes, to write: (UnsafeRawBufferPointer) -> Void, atLeast minimum: Int) {
        guard out.count >= minimum else { return }
        out.withUnsafeBytes(write)
        out.removeAll()
    }
}
