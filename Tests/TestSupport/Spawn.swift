import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs `path` with `arguments`, standard streams on /dev/null (or `log`), and no other descriptor
/// inherited; waits for it and returns its wait status. For programs that leave a daemon behind
/// (tmux, pg_ctl): Foundation's Process would wait for the daemon through an inherited socket, and a
/// daemon holding another test's pipe would keep that test waiting for its end.
public func spawnWithoutInheritance(_ path: String, _ arguments: [String], log: String? = nil) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    for fd: Int32 in 1...2 { posix_spawn_file_actions_addopen(&actions, fd, log ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644) }
    // glibc ≥ 2.34 has it, but its header hides it from Swift: look it up.
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return -1 }
    _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    // Nor the calling thread's blocked signals (a runtime thread may block them all): a tmux server
    // spawned with SIGTERM blocked never ends on `kill-server`, which signals the server itself.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    guard posix_spawn(&pid, path, &actions, &attributes, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}
