import Logbook
import Logging
import Synchronization

/// Whether the journal's filesystem is full, as the service's appends find it: an episode begins
/// with the first append refused for want of space and ends with the next append stored (the
/// service needs no restart). Each end of an episode is logged once, not once per request, and
/// `/healthz` reports the episode as `degraded` with its reason. A write that failed at the device
/// is logged once too; it has no end short of a restart.
final class StorageAlarm: Sendable {
    /// What a refused client is told to wait before retrying (`Retry-After`).
    static let retryAfterSeconds = 5

    struct Episode: Sendable {
        var since: Timestamp
        var reason: String
        var refused: Int
    }

    private let episode = Mutex<Episode?>(nil)
    private let deviceFailureLogged = Atomic<Bool>(false)
    private let logger: Logger

    init(logger: Logger = Logger(label: "logbook.storage")) { self.logger = logger }

    var current: Episode? { episode.withLock { $0 } }

    /// An append refused because the filesystem is full: begins an episode (logged) or counts in it.
    func refused(_ error: JournalError, at now: Timestamp, freeBytes: Int?) {
        let began = episode.withLock { e -> Bool in
            if e != nil {
                e?.refused += 1
                return false
            }
            e = Episode(since: now, reason: "\(error)", refused: 1)
            return true
        }
        if began {
            logger.error(
                "the journal's filesystem is full: appends are refused with 507 until space is freed",
                metadata: ["error": "\(error)", "freeBytes": "\(freeBytes.map(String.init) ?? "unknown")"])
        }
    }

    /// An append refused because a write failed at the device: logged once (the writer stays
    /// stopped until the service restarts, so there is no end to log).
    func deviceFailed(_ error: JournalError) {
        guard !deviceFailureLogged.exchange(true, ordering: .relaxed) else { return }
        logger.critical(
            "a write failed at the journal's device: appends are refused with 503 until the service is restarted; check the device (dmesg, SMART) before restarting",
            metadata: ["error": "\(error)"])
    }

    /// An append stored: ends an episode (logged).
    func stored(freeBytes: @autoclosure () -> Int?) {
        guard let ended = episode.withLock({ e -> Episode? in defer { e = nil }; return e }) else { return }
        logger.notice(
            "the journal's filesystem has room again: appends are stored",
            metadata: ["refused": "\(ended.refused)", "since": "\(ended.since.rfc3339)", "freeBytes": "\(freeBytes().map(String.init) ?? "unknown")"])
    }
}
