#if canImport(Glibc)
import Glibc
#endif

/// Threads of the process's own (the journal's writer, a verify pass on the second core): the kit's
/// pthread calls, each checked.
package enum Threads {
    /// `pthread_create` failed with this code.
    package struct StartFailure: Error, Equatable {
        package var code: Int32
    }

    /// Starts a thread running `body`; join it exactly once.
    package static func start(_ body: @escaping @Sendable () -> Void) throws(StartFailure) -> pthread_t {
        var thread = pthread_t()
        // The thread holds its own reference to the body until it has run.
        let retained = Unmanaged.passRetained(Body(body))
        let rc = pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, retained.toOpaque())
        guard rc == 0 else {
            retained.release()
            throw StartFailure(code: rc)
        }
        return thread
    }

    /// Waits for a thread `start` started to end.
    package static func join(_ thread: pthread_t) { _ = pthread_join(thread, nil) }

    /// The cores online now (at least 1).
    package static var processorsOnline: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Whether this machine has a second core for work beside the caller's (the cores online now).
    package static var hasSecondCore: Bool { processorsOnline > 1 }

    /// What a started thread runs (a class: a C function pointer cannot capture context).
    private final class Body: @unchecked Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
