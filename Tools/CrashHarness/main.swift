// Crash harness: appends in a loop and prints each acknowledged batch as "ack FIRST LAST COUNT",
// written unbuffered after each append returns, so a parent that kills it with SIGKILL at any
// moment knows exactly which events were acknowledged (durable) before the kill.
//
//   logbook-crash-harness PATH [--batch N] [--threads K] [--count N]
//
// Reader mode: opens PATH read-only (with a map of --map-size bytes) and, every 5 ms, scans the
// whole journal checking every CRC, printing "seen N" whenever the count changes, or "error: …".
//
//   logbook-crash-harness PATH --read [--map-size BYTES]
//
// Hold mode: opens PATH read-only, starts a scan and stops inside it ("holding"), keeping a read
// transaction (and its reader slot) open until killed. For the stale-reader test.
//
//   logbook-crash-harness PATH --hold-read
//
// Replica mode: applies synthetic shared-log batches of --batch records (job-0…job-9, the shared
// log's versions) with a cursor whose position counts the records applied, resuming from the
// cursor stored in PATH; prints "applied POSITION" after each batch. For the kill -9 mid-apply test.
//
//   logbook-crash-harness PATH --replica [--batch N]
import Journal
import Lifecycle

#if canImport(Glibc)
import Glibc
#endif

Harness.main(CommandLine.arguments)

enum Harness {
    /// Unbuffered line output: a line is out of the process before the next append starts.
    static func emit(_ line: String, to fd: Int32 = 1) {
        let bytes = Array((line + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { return }
            off += n
        }
    }

    struct Config: Sendable {
        var path: String
        var batch: Int
        var count: Int
    }

    static func main(_ args: [String]) {
        guard args.count >= 2 else {
            emit("usage: logbook-crash-harness PATH [--batch N] [--threads K] [--count N]", to: 2)
            exit(2)
        }
        // A child of a test: die with the test process (a crashed test run must not leave readers
        // polling forever on a loaded machine).
        // (prctl's PR_SET_PDEATHSIG is variadic in C, out of Swift's reach: watch the parent instead.)
        let parent = getppid()
        var watcher = pthread_t()
        pthread_create(&watcher, nil, { raw in
            let parent = pid_t(Int(bitPattern: raw))
            while getppid() == parent { usleep(100_000) }
            _exit(3)
        }, UnsafeMutableRawPointer(bitPattern: Int(parent)))
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
            return v
        }
        if args.contains("--hold-read") {
            holdRead(path: args[1])
            return
        }
        if args.contains("--replica") {
            replica(path: args[1], batch: option("--batch", 50))
            return
        }
        if args.contains("--read") {
            read(path: args[1], mapSize: option("--map-size", 1 << 30))
            return
        }
        let threads = option("--threads", 4)
        let config = Config(path: args[1], batch: option("--batch", 5), count: option("--count", Int.max))
        let journal: Journal
        do {
            journal = try Journal.open(at: config.path)
        } catch {
            emit("open failed: \(error)", to: 2)
            exit(1)
        }
        emit("ready")
        var workers: [pthread_t] = []
        for t in 0..<threads {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(Worker(journal: journal, thread: t, config: config))
            pthread_create(&thread, nil, { raw in
                Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, box.toOpaque())
            workers.append(thread)
        }
        for w in workers { pthread_join(w, nil) }
        journal.close()
    }
}

/// Hold mode: a reader that dies (kill -9) inside a read transaction, leaving its slot behind.
func holdRead(path: String) {
    var options = Journal.Options()
    options.readOnly = true
    do {
        let journal = try Journal.open(at: path, options: options)
        try journal.scan { _ in
            Harness.emit("holding")
            while true { sleep(1) }
        }
    } catch {
        Harness.emit("error: \(error)")
        exit(1)
    }
}

/// Reader mode: a second process following a journal that another process writes (and grows).
func read(path: String, mapSize: Int) {
    var options = Journal.Options()
    options.readOnly = true
    options.initialMapSize = mapSize
    let journal: Journal
    do {
        journal = try Journal.open(at: path, options: options)
    } catch {
        Harness.emit("error: \(error)")
        exit(1)
    }
    var last = -1
    while true {
        do {
            var n = 0
            try journal.scan { _ in
                n += 1
                return true
            }
            if n != last {
                Harness.emit("seen \(n)")
                last = n
            }
        } catch {
            Harness.emit("error: \(error)")
            exit(1)
        }
        usleep(5_000)
    }
}

final class Worker: Sendable {
    let journal: Journal
    let thread: Int
    let config: Harness.Config

    init(journal: Journal, thread: Int, config: Harness.Config) {
        self.journal = journal
        self.thread = thread
        self.config = config
    }

    func run() {
        var i = 0
        while i < config.count {
            // Every event names its thread and batch, so a checker can tell a whole batch from a partial one.
            let items = (0..<config.batch).map { k in
                AppendItem(Event(
                    job: "job-\(thread)-\(i % 50)", type: .heartbeat, index: UInt64(k),
                    data: "{\"run\":\(getpid()),\"thread\":\(thread),\"batch\":\(i),\"k\":\(k),\"of\":\(config.batch)}"))
            }
            do {
                let stored = try journal.appendBlocking(items)
                Harness.emit("ack \(stored[0].seq) \(stored[stored.count - 1].seq) \(stored.count)")
            } catch {
                Harness.emit("append failed: \(error)", to: 2)
                exit(1)
            }
            i += 1
        }
    }
}

/// Replica mode: batch after batch of records as a shared log would hand them over, each with the
/// cursor that says how many records precede it; resumes where the stored cursor says.
func replica(path: String, batch: Int) {
    do {
        let journal = try Journal.open(at: path)
        var position = try journal.replicaCursor()?.position ?? 0
        let at = Timestamp(seconds: 1_780_272_000)
        Harness.emit("ready")
        while true {
            var records: [Journal.ReplicatedRecord] = []
            for i in 0..<Int64(batch) {
                let n = position + i  // record n (from 0) is version n / 10 + 1 of job-(n % 10)
                let event = Event(job: "job-\(n % 10)", type: .heartbeat, at: at, index: UInt64(n), data: #"{"pad":"0123456789abcdef"}"#)
                records.append(Journal.ReplicatedRecord(
                    cursor: .init(tx: n + 1, position: n + 1), version: UInt64(n / 10 + 1),
                    record: Journal.encodeRecord(seq: 0, version: 0, appendedAt: at, event: event)))
            }
            position += Int64(batch)
            try journal.applyReplicated(records, from: "crash-harness")
            Harness.emit("applied \(position)")
        }
    } catch {
        Harness.emit("error: \(error)")
        exit(1)
    }
}
