#if canImport(Glibc)
import Glibc
#endif

/// Work that runs on a thread of its own while the caller goes on, and hands its result over when
/// joined: how `verify` uses a second core. When no thread can be made, `join` does the work on
/// the caller's thread instead, so the answer never depends on getting one.
///
/// Join exactly once (the thread's resources are released then); `deinit` joins a thread left
/// unjoined, so the work never outlives its owner.
package final class BackgroundWork<Result: Sendable>: @unchecked Sendable {
    private let thread: pthread_t?
    private let box: ResultBox<Result>
    private var joined = false

    package init(_ work: @escaping @Sendable () -> Result) {
        let box = ResultBox(work)
        self.box = box
        thread = try? Threads.start { box.run() }
    }

    /// Whether the work runs on a thread of its own (false: `join` will do it).
    package var hasThread: Bool { thread != nil }

    /// Waits for the work to end and returns its result.
    package func join() -> Result {
        precondition(!joined, "BackgroundWork joined twice")
        joined = true
        if let thread {
            Threads.join(thread)
        } else {
            box.run()
        }
        return box.result!
    }

    deinit {
        if !joined { _ = join() }
    }
}

/// The work and its result. The thread writes `result` before it ends; the joining thread reads it
/// after `pthread_join`, which orders the two.
private final class ResultBox<Result: Sendable>: @unchecked Sendable {
    let work: @Sendable () -> Result
    var result: Result?
    init(_ work: @escaping @Sendable () -> Result) { self.work = work }
    func run() { result = work() }
}

/// Parts of one job done on two threads and used in order on the calling thread: the calling
/// thread makes parts 0, 2, 4… itself, a second thread makes parts 1, 3, 5…, at most one part
/// ahead (so at most two parts are held at once). How export writes JSON on both cores. Without
/// `twoThreads` (by default, on a machine of one core) the calling thread makes every part.
package enum InterleavedParts {
    /// Makes `count` parts with `make` and hands each to `use` in order. `make` gets a part already
    /// used, when there is one, to fill again (so buffers are reused, not made anew). `use`
    /// returning false stops both threads; a part `make` could not make is thrown when its turn
    /// comes. Either way the second thread has ended when this returns.
    package static func run<Part: Sendable, Failure: Error>(
        count: Int, twoThreads: Bool = Threads.hasSecondCore,
        make: @escaping @Sendable (_ index: Int, _ reuse: Part?) -> Result<Part, Failure>,
        use: (Part) -> Bool
    ) throws(Failure) {
        let mailbox = PartMailbox<Part, Failure>()
        let odd = !twoThreads ? nil : BackgroundWork { () -> Void in
            var i = 1
            while i < count, !mailbox.isStopped {
                let part = make(i, mailbox.takeReturned())
                guard mailbox.put(part) else { return }
                if case .failure = part { return }
                i += 2
            }
        }
        defer {
            mailbox.stop()
            odd?.join()
        }
        var spare: Part?
        for i in 0..<count {
            let mine = i.isMultiple(of: 2) || odd?.hasThread != true
            let part = try (mine ? make(i, spare.take()) : mailbox.take()).get()
            if !use(part) { return }
            if mine { spare = part } else { mailbox.giveBack(part) }
        }
    }
}

/// One part in flight from the second thread to the calling one.
private final class PartMailbox<Part: Sendable, Failure: Error>: @unchecked Sendable {
    private let condition = ConditionLock()
    private var part: Result<Part, Failure>?
    /// A part the calling thread has used, back for the second thread to fill again.
    private var returned: Part?
    private var stopped = false

    var isStopped: Bool { condition.withLock { stopped } }

    /// Waits until the box is empty, then leaves `part` in it; false if the taker has stopped.
    func put(_ new: Result<Part, Failure>) -> Bool {
        let put = condition.withLock {
            while part != nil && !stopped { condition.wait() }
            if stopped { return false }
            part = new
            return true
        }
        condition.broadcast()
        return put
    }

    /// Waits for a part and takes it.
    func take() -> Result<Part, Failure> {
        let taken = condition.withLock {
            while part == nil { condition.wait() }
            defer { part = nil }
            return part!
        }
        condition.broadcast()
        return taken
    }

    func giveBack(_ used: Part) { condition.withLock { returned = used } }

    func takeReturned() -> Part? { condition.withLock { returned.take() } }

    func stop() {
        condition.withLock { stopped = true }
        condition.broadcast()
    }
}
