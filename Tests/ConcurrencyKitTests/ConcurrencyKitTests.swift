import ConcurrencyKit
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Each piece of the kit, with cancellation. Waits that must end are bounded by an hour or more
/// (and the suite's time limit), so a test never depends on how fast a busy machine runs.
@Suite(.timeLimit(.minutes(2))) struct ConcurrencyKitTests {
    struct Late: Error, Equatable {}

    // MARK: OneShot

    @Test func oneShotTheFirstFulfilWinsAndEveryWaiterGetsIt() async {
        let shot = OneShot<Int>()
        async let a = shot.value
        async let b = shot.value
        #expect(shot.fulfil(1))
        #expect(!shot.fulfil(2), "a second fulfil is refused")
        let (first, second) = await (a, b)
        #expect(first == 1 && second == 1)
        #expect(await shot.value == 1, "a waiter after the fact gets it at once")
        #expect(shot.current == 1)
    }

    @Test func oneShotACancelledWaiterStillGetsTheValue() async {
        let shot = OneShot<Int>()
        let waiter = Task { await shot.value }
        waiter.cancel()
        shot.fulfil(7)
        #expect(await waiter.value == 7, "an answer is never lost to a cancelled task")
    }

    // MARK: withDeadline

    @Test func withDeadlineReturnsTheBodysAnswer() async throws {
        #expect(try await withDeadline(.seconds(3600), timeout: Late()) { 42 } == 42)
        await #expect(throws: CancellationError.self) {
            try await withDeadline(.seconds(3600), timeout: Late()) { throw CancellationError() }
        }
    }

    @Test func withDeadlineAnswersAtTheDeadlineEvenWhenTheBodyIgnoresCancellation() async {
        let release = OneShot<Void>()
        let bodyCancelled = OneShot<Bool>()
        await #expect(throws: Late.self) {
            try await withDeadline(.milliseconds(20), timeout: Late()) {
                await release.value  // ignores cancellation: waits until released
                bodyCancelled.fulfil(Task.isCancelled)
                return 1
            }
        }
        release.fulfil(())
        #expect(await bodyCancelled.value, "the body was cancelled at the deadline")
    }

    @Test func cancellingTheCallerEndsTheWaitAtOnceAndCancelsTheBody() async {
        let started = OneShot<Void>()
        let bodyCancelled = OneShot<Void>()
        let caller = Task {
            try await withDeadline(.seconds(3600), timeout: Late()) {
                started.fulfil(())
                await withTaskCancellationHandler {
                    await bodyCancelled.value
                } onCancel: {
                    bodyCancelled.fulfil(())
                }
                return 1
            }
        }
        await started.value
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        await bodyCancelled.value  // returns only if the body saw the cancellation
    }

    // MARK: Doorbell

    @Test func aRingBeforeTheWaitIsKept() async {
        let bell = Doorbell()
        bell.ring()
        #expect(await bell.wait(timeout: .seconds(3600)), "returns at once, rung: the ring was kept")
    }

    @Test func aRingWakesTheWaiter() async {
        let bell = Doorbell()
        let waiter = Task { await bell.wait(timeout: .seconds(3600)) }
        // Whether the waiter has parked yet or not, one ring ends its wait (one before it parks is kept).
        bell.ring()
        #expect(await waiter.value, "woken by the ring, not the timeout")
    }

    @Test func aWaitEndsAtItsTimeout() async {
        let bell = Doorbell()
        #expect(await bell.wait(timeout: .milliseconds(10)) == false, "the timeout is told from a ring")
        // And a later ring is still kept for the next wait.
        bell.ring()
        #expect(await bell.wait(timeout: .seconds(3600)))
    }

    @Test func cancellingTheWaiterEndsTheWait() async {
        let bell = Doorbell()
        let waiter = Task { await bell.wait(timeout: .seconds(3600)) }
        waiter.cancel()
        #expect(await waiter.value == false, "cancelled, not rung")
    }

    // MARK: Watermark

    @Test func aWaitEndsWhenTheMarkPassesItsValue() async {
        let mark = Watermark(3)
        #expect(await mark.wait(past: 2), "already past: at once")
        let waiter = Task { await mark.wait(past: 5) }
        mark.publish(5)  // not past 5: the waiter may still wait
        mark.publish(4)  // lower: ignored
        mark.publish(6)
        #expect(await waiter.value)
    }

    @Test func closingEndsEveryWaitWithFalse() async {
        let mark = Watermark(0)
        let waiter = Task { await mark.wait(past: 10) }
        mark.close()
        #expect(await waiter.value == false)
        #expect(await mark.wait(past: 10) == false, "and every later wait")
        #expect(mark.isClosed)
    }

    @Test func cancellingAWaiterEndsItsWaitWithTrue() async {
        let mark = Watermark(0)
        let waiter = Task { await mark.wait(past: 10) }
        waiter.cancel()
        #expect(await waiter.value, "true: the caller sees Task.isCancelled")
    }

    // MARK: ConditionLock and Completion (threads)

    @Test func aTimedWaitReturnsFalseAtItsDeadline() {
        let lock = ConditionLock()
        let started = ContinuousClock.now
        let deadline = ConditionLock.Deadline.after(nanoseconds: 5_000_000)
        // A condition variable may wake without a signal (spuriously): wait again until it answers.
        let signalled = lock.withLock {
            var woken = true
            for _ in 0..<1_000 where woken { woken = lock.wait(until: deadline) }
            return woken
        }
        #expect(!signalled)
        #expect(ContinuousClock.now - started >= .milliseconds(5), "not before its deadline")
    }

    @Test func aCompletionHandsAValueFromOneThreadToAnother() async {
        let done = Completion<Int>()
        let got = OneShot<Int>()
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Handoff(done: done, got: got))
        pthread_create(&thread, nil, { raw in
            let handoff = Unmanaged<Handoff>.fromOpaque(raw!).takeRetainedValue()
            handoff.got.fulfil(handoff.done.wait())
            return nil
        }, box.toOpaque())
        done.fulfil(5)
        #expect(await got.value == 5)
        pthread_join(thread, nil)
    }

    final class Handoff: Sendable {
        let done: Completion<Int>
        let got: OneShot<Int>
        init(done: Completion<Int>, got: OneShot<Int>) { (self.done, self.got) = (done, got) }
    }
}

/// One row per case of taking the next group from a queue of weighted requests.
@Suite struct QueueGroupTests {
    @Test(arguments: [
        ([3, 3, 3], 6, [3, 3], [3]),  // as many as fit
        ([3, 3, 3], 9, [3, 3, 3], []),  // exactly the limit
        ([10, 1], 5, [10], [1]),  // a request heavier than the limit goes alone, never never
        ([1, 1], 0, [1], [1]),  // at least one
        ([Int](), 5, [Int](), [Int]()),  // an empty queue gives an empty group
        ([2, 9, 1], 4, [2], [9, 1]),  // a prefix: the light request behind a heavy one waits its turn
    ])
    func theNextGroupIsTheLongestPrefixWithinTheLimit(queue: [Int], limit: Int, group: [Int], rest: [Int]) {
        var q = queue
        #expect(q.removeGroup(upTo: limit, weight: { $0 }) == group)
        #expect(q == rest)
    }
}
