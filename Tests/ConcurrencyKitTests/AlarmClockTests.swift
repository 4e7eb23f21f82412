import ConcurrencyKit
import Synchronization
import Testing

/// The alarm clock's rules, one test each. Each test has a clock of its own; a test that waits
/// for an alarm asserts only what cannot depend on a busy machine's speed (never early, in time
/// order, never after a cancel), or allows an hour where it must bound a wait.
@Suite(.timeLimit(.minutes(2))) struct AlarmClockTests {
    private static func now() -> ContinuousClock.Instant { ContinuousClock.now }

    @Test func anAlarmRunsOnceItsDelayHasPassedNeverBefore() async {
        let clock = AlarmClock()
        let rang = OneShot<ContinuousClock.Instant>()
        let set = Self.now()
        clock.set(after: .milliseconds(30)) { rang.fulfil(Self.now()) }
        let at = await rang.value
        #expect(at - set >= .milliseconds(30))
        #expect(clock.pending == 0)
    }

    @Test func alarmsRunInTheOrderOfTheirTimesNotOfTheirSetting() async {
        let clock = AlarmClock()
        let order = Mutex<[Int]>([])
        let last = OneShot<Void>()
        for ms in [40, 30, 20, 10] {
            clock.set(after: .milliseconds(ms)) {
                let done = order.withLock { o -> Bool in
                    o.append(ms)
                    return o.count == 4
                }
                if done { last.fulfil(()) }
            }
        }
        await last.value
        #expect(order.withLock { $0 } == [10, 20, 30, 40])
    }

    @Test func aCancelledAlarmNeverRuns() async {
        let clock = AlarmClock()
        // Hold the clock's thread in an action, so the alarm below cannot run before it is cancelled
        // however slowly this test runs.
        let held = OneShot<Void>()
        let release = Completion<Void>()
        clock.set(after: .zero) {
            held.fulfil(())
            release.wait()
        }
        await held.value
        let ran = Atomic<Bool>(false)
        let alarm = clock.set(after: .milliseconds(10)) { ran.store(true, ordering: .relaxed) }
        #expect(clock.cancel(alarm), "cancelled before it ran")
        release.fulfil(())
        // A later alarm runs after the cancelled one's time has passed.
        let later = OneShot<Void>()
        clock.set(after: .milliseconds(40)) { later.fulfil(()) }
        await later.value
        let didRun = ran.load(ordering: .relaxed)
        #expect(!didRun)
        #expect(!clock.cancel(alarm), "a second cancel finds nothing")
        #expect(clock.pending == 0)
    }

    @Test func cancellingAnAlarmThatRanSaysSo() async {
        let clock = AlarmClock()
        let rang = OneShot<Void>()
        let alarm = clock.set(after: .zero) { rang.fulfil(()) }
        await rang.value
        #expect(!clock.cancel(alarm))
    }

    @Test func anEarlierAlarmWakesAClockSleepingUntilALaterOne() async {
        let clock = AlarmClock()
        let far = clock.set(after: .seconds(7200)) {}
        let near = OneShot<Void>()
        // Let the thread go to sleep until the far alarm, then set a near one: it must not wait for
        // the far one (the test's time limit would end it first).
        try? await Task.sleep(for: .milliseconds(20))
        clock.set(after: .milliseconds(10)) { near.fulfil(()) }
        await near.value
        #expect(clock.cancel(far))
    }

    @Test func cancelledAlarmsDoNotPileUpInTheQueue() {
        let clock = AlarmClock()
        let live = clock.set(after: .seconds(7200)) {}
        for _ in 0..<10_000 { clock.cancel(clock.set(after: .seconds(3600)) {}) }
        #expect(clock.queued < 1024 + 1, "cancelled entries were dropped, not kept for an hour")
        #expect(clock.pending == 1)
        #expect(clock.cancel(live), "the live alarm survived the clean-up")
    }

    /// What the alarms of a test did, shared by its tasks and the clock's thread.
    final class Tally: Sendable {
        let runs = Mutex<[Int: Int]>([:])
        let cancelled = Mutex<Set<Int>>([])
    }

    @Test func manyAlarmsSetFromManyTasksEachRunOnceOrAreCancelled() async {
        let clock = AlarmClock()
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<400 {
                group.addTask {
                    let alarm = clock.set(after: .microseconds(i % 50 * 100)) { tally.runs.withLock { $0[i, default: 0] += 1 } }
                    if i % 3 == 0, clock.cancel(alarm) { tally.cancelled.withLock { _ = $0.insert(i) } }
                }
            }
        }
        let end = OneShot<Void>()
        clock.set(after: .milliseconds(20)) { end.fulfil(()) }
        await end.value
        let (ran, gone) = (tally.runs.withLock { $0 }, tally.cancelled.withLock { $0 })
        #expect(ran.values.allSatisfy { $0 == 1 }, "no alarm ran twice")
        #expect(Set(ran.keys).isDisjoint(with: gone), "no cancelled alarm ran")
        #expect(ran.count + gone.count == 400, "every alarm ran or was cancelled")
        #expect(clock.pending == 0)
    }
}
