/// Runs `body` and returns its result, or throws `timeout` once `limit` has passed without one (and
/// cancels `body`). Cancelling the caller cancels `body` and ends the wait at once with
/// `CancellationError`.
///
/// `body` runs in a task of its own, not a child task, on purpose: a call that ignores
/// cancellation (a query waiting in a connection pool for a server that cannot be reached) would
/// hold a task group, and so its caller, until it ended; here the caller is answered at the
/// deadline and the body is left to end when it can. The bound is an alarm (`AlarmClock`), not a
/// sleeping task: nothing wakes when the body answers first.
package func withDeadline<T: Sendable>(
    _ limit: Duration, timeout: any Error & Sendable, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let answer = OneShot<Result<T, any Error>>()
    let work = Task {
        do {
            answer.fulfil(.success(try await body()))
        } catch {
            answer.fulfil(.failure(error))
        }
    }
    let alarm = AlarmClock.shared.set(after: limit) {
        if answer.fulfil(.failure(timeout)) { work.cancel() }
    }
    defer { AlarmClock.shared.cancel(alarm) }
    return try await withTaskCancellationHandler {
        try await answer.value.get()
    } onCancel: {
        answer.fulfil(.failure(CancellationError()))
        work.cancel()
    }
}
