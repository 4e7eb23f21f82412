import ConcurrencyKit
import LMDB
import Lifecycle

extension Journal {
    /// Streams the records like `scanViewBatches`, but reads the log on a second thread: while
    /// `body` works through one slot of views on the calling thread, the reader walks the B-tree,
    /// copies the next records out of the map into another slot, checks their CRCs and decodes
    /// their views. A replay is half reading, half folding, so on two cores it takes about the time
    /// of the larger half instead of the sum.
    ///
    /// The views point into the reader's copies, not into the map, so no LMDB transaction crosses a
    /// thread: the reader's chunked read transactions begin and end on the reader. `body` runs on
    /// the calling thread only, in seq order, with batches of up to `batch` views valid during the
    /// call. A damaged record stops the reader; `body` still gets every record before it, then
    /// this throws the same error `scanViewBatches` would. `body` returning false (or throwing)
    /// stops the reader too. Either way the reader thread has ended when this returns.
    package func scanViewBatchesReadingAhead(
        from: UInt64 = 1, through: UInt64 = .max, batch: Int = 32,
        _ body: (UnsafeBufferPointer<EventView>) throws -> Bool
    ) throws(JournalError) {
        let ring = ReadAheadRing()
        let reader = ReadAheadReader(journal: self, ring: ring, from: from, through: through)
        let thread = BackgroundWork { reader.run() }
        defer {
            ring.stop()
            thread.join()  // with no thread of its own, the stopped reader returns at once
        }
        guard thread.hasThread else {
            return try scanViewBatches(from: from, through: through, batch: batch, body)
        }
        do {
            while let slot = ring.nextFilled() {
                var start = 0
                var more = true
                while more, start < slot.count {
                    let n = min(max(batch, 1), slot.count - start)
                    more = try body(UnsafeBufferPointer(start: slot.views + start, count: n))
                    start += n
                }
                ring.release()
                if !more { return }
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw Journal.wrap(error)
        }
        if let error = ring.failure { throw error }
    }
}

/// One slot of the read-ahead ring: views over copies of up to `capacity` records.
final class ReadAheadSlot: @unchecked Sendable {
    static let capacity = 1024
    let views = UnsafeMutablePointer<EventView>.allocate(capacity: ReadAheadSlot.capacity)
    private(set) var bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 8)
    /// Records in the slot (set by the reader when it hands the slot over).
    var count = 0

    deinit {
        views.deallocate()
        bytes.deallocate()
    }

    /// Makes room for a record of `n` bytes in the (empty) slot: one larger than the slot's bytes
    /// gets bytes of its own size.
    func reserve(_ n: Int) {
        guard n > bytes.count else { return }
        bytes.deallocate()
        bytes = .allocate(byteCount: n, alignment: 8)
    }
}

/// The slots passed between the reader and the calling thread: the reader fills them in order,
/// the caller empties them in the same order. Each slot is touched by one side at a time, handed
/// over under the lock.
final class ReadAheadRing: @unchecked Sendable {
    private static let slotCount = 4
    private let slots = (0..<ReadAheadRing.slotCount).map { _ in ReadAheadSlot() }
    private let condition = ConditionLock()
    /// Slots filled so far and slots emptied so far (both only grow; the ring index is their
    /// remainder). Guarded by `condition`.
    private var filled = 0
    private var emptied = 0
    private var readerDone = false
    private var stopped = false
    /// Set by the reader before `readerDone`; read by the caller after it has seen `readerDone`.
    private(set) var failure: JournalError?

    /// The reader's next empty slot, or nil when the caller has stopped.
    func nextEmpty() -> ReadAheadSlot? {
        condition.withLock {
            while !stopped && filled - emptied == ReadAheadRing.slotCount { condition.wait() }
            return stopped ? nil : slots[filled % ReadAheadRing.slotCount]
        }
    }

    /// The reader hands over the slot `nextEmpty` gave it.
    func fill() {
        condition.withLock { filled += 1 }
        condition.broadcast()
    }

    /// The reader has nothing more (`failure` says why, when it did not reach the end).
    func finish(_ failure: JournalError?) {
        condition.withLock {
            self.failure = failure
            readerDone = true
        }
        condition.broadcast()
    }

    /// Whether the caller has stopped (the reader checks between records).
    var isStopped: Bool { condition.withLock { stopped } }

    /// The caller's next filled slot, or nil once the reader is done and every slot is emptied.
    func nextFilled() -> ReadAheadSlot? {
        condition.withLock {
            while filled == emptied && !readerDone { condition.wait() }
            return filled > emptied ? slots[emptied % ReadAheadRing.slotCount] : nil
        }
    }

    /// The caller is done with the slot `nextFilled` gave it.
    func release() {
        condition.withLock { emptied += 1 }
        condition.broadcast()
    }

    /// The caller stops the reader (at its next slot).
    func stop() {
        condition.withLock { stopped = true }
        condition.broadcast()
    }
}

/// The reader thread's work: the log in chunked read transactions, each record copied into the
/// ring, its CRC checked and its view decoded on the copy.
final class ReadAheadReader: @unchecked Sendable {
    let journal: Journal
    let ring: ReadAheadRing
    let from: UInt64
    let through: UInt64

    init(journal: Journal, ring: ReadAheadRing, from: UInt64, through: UInt64) {
        self.journal = journal
        self.ring = ring
        self.from = from
        self.through = through
    }

    func run() {
        var failure: JournalError?
        guard var slot = ring.nextEmpty() else { return ring.finish(nil) }
        // The slot's fields are kept in locals while it fills (a class's fields touched per record
        // cost a retain and a release each) and stored back when it is handed over.
        var views = slot.views
        var bytes = slot.bytes
        var count = 0
        var used = 0
        do {
            try journal.scanRecords(from: from, through: through) { seq, record in
                if count == ReadAheadSlot.capacity || used + record.count > bytes.count {
                    if count > 0 {
                        slot.count = count
                        ring.fill()
                        guard let next = ring.nextEmpty() else { return false }
                        slot = next
                    }
                    slot.reserve(record.count)
                    (views, bytes, count, used) = (slot.views, slot.bytes, 0, 0)
                }
                let copy = UnsafeMutableRawBufferPointer(rebasing: bytes[used..<(used + record.count)])
                copy.copyMemory(from: record)
                used += record.count
                (views + count).initialize(to: try RecordFormat.view(seq: seq, bytes: UnsafeRawBufferPointer(copy)))
                count += 1
                return true
            }
        } catch {
            failure = Journal.wrap(error)
        }
        slot.count = count
        if count > 0 && !ring.isStopped { ring.fill() }
        ring.finish(failure)
    }
}
