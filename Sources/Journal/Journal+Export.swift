import Lifecycle

extension Journal {
    /// Writes events as JSON Lines in the ingest format (`Event.jsonLine`, one per line) in seq order,
    /// handing `write` chunks of about 64 KiB; returns how many events it wrote.
    ///
    /// With no `jobs` and no window: every event, read in place from the map (no string per record).
    /// Otherwise: the full history of each job in `jobs`, and of every job with an event whose `at`
    /// lies in `since...until` (either end may be open), merged back into log order.
    @discardableResult
    public func exportJSONLines(
        jobs: [String] = [], since: Timestamp? = nil, until: Timestamp? = nil,
        _ write: (UnsafeRawBufferPointer) -> Void
    ) throws(JournalError) -> Int {
        var out = JSONBytes(capacity: Journal.exportChunk + 4096)
        if jobs.isEmpty && since == nil && until == nil {
            var written = 0
            try scanViews { view in
                view.appendJSONLine(to: &out)
                out.append(raw: "\n")
                written += 1
                if out.count >= Journal.exportChunk { Journal.hand(&out, to: write, atLeast: Journal.exportChunk) }
                return true
            }
            Journal.hand(&out, to: write, atLeast: 1)
            return written
        }
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

    /// Hands what `out` holds to `write` and empties it, once it holds at least `minimum` bytes.
    private static func hand(_ out: inout JSONBytes, to write: (UnsafeRawBufferPointer) -> Void, atLeast minimum: Int) {
        guard out.count >= minimum else { return }
        out.withUnsafeBytes(write)
        out.removeAll()
    }
}
