// sqlite-peer --events N [--durable-events N] [--concurrent-events N] [--dir D]
//
// The workload of `logbook-bench`, on SQLite (GRDB, WAL): batches of 10,000 events over 100,000 jobs,
// each row ~100 bytes with its per-job version, a (job, version) index, then a full scan, then
// durable single-row commits and 64 concurrent durable writers. Prints one JSON object.
import Foundation
import GRDB

struct Config {
    var events = 1_000_000
    var durableEvents = 2_000
    var concurrentEvents = 200
    var dir = NSTemporaryDirectory()

    init(_ args: [String]) {
        var i = 1
        while i + 1 < args.count {
            switch args[i] {
            case "--events": events = Int(args[i + 1]) ?? events
            case "--durable-events": durableEvents = Int(args[i + 1]) ?? durableEvents
            case "--concurrent-events": concurrentEvents = Int(args[i + 1]) ?? concurrentEvents
            case "--dir": dir = args[i + 1]
            default: break
            }
            i += 2
        }
    }
}

nonisolated let jobs = 100_000

/// The same synthetic event as `logbook-bench` (BenchWorkload.event).
nonisolated func row(_ i: Int) -> (job: String, type: Int, at: Int64, node: String?, index: Int, data: String) {
    let job = (i &* 7919) % jobs
    let type = i < jobs ? 2 : (i % 10 == 0 ? 3 : 4)
    let padded = String(repeating: "0", count: max(0, 5 - String(job).count)) + String(job)
    return (
        "job-" + padded, type, (1_780_272_000 + Int64(i / 1000)) * 1_000_000, type == 2 ? "node-\(job % 4)" : nil, i,
        "{\"bytes\":\(i &* 131 % 1_000_000),\"part\":\"p-\(i % 977)\"}"
    )
}

func now() -> Double { Date().timeIntervalSince1970 }

func makeSchema(_ db: Database) throws {
    try db.execute(sql: """
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY, job TEXT NOT NULL, version INTEGER NOT NULL, type INTEGER NOT NULL,
          at INTEGER NOT NULL, appended INTEGER NOT NULL, node TEXT, holder TEXT, reason TEXT,
          idx INTEGER, attempt INTEGER, data TEXT);
        CREATE UNIQUE INDEX events_by_job ON events(job, version);
        """)
}

let config = Config(CommandLine.arguments)
let base = config.dir + "/sqlite-peer-\(getpid())"
try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: base) }
var figures: [(String, Double)] = [("events", Double(config.events))]

// 1. Batched appends, synchronous=OFF (the noSync equivalent), index maintained.
do {
    var configuration = Configuration()
    configuration.prepareDatabase { db in
        try db.execute(sql: "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF")
    }
    let queue = try DatabaseQueue(path: base + "/batched.sqlite", configuration: configuration)
    // GRDB sets synchronous=NORMAL when it enables WAL, after prepareDatabase: set ours afterwards.
    try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous=OFF") }
    try queue.write(makeSchema)
    var versions: [String: Int] = [:]  // like Logbook's writer cache
    var elapsed = 0.0
    var i = 0
    while i < config.events {
        let n = min(10_000, config.events - i)
        let rows = (i..<(i + n)).map(row)
        let start = now()
        try queue.write { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO events VALUES (?,?,?,?,?,?,?,NULL,NULL,?,NULL,?)")
            for (k, r) in rows.enumerated() {
                let version = (versions[r.job] ?? 0) + 1
                versions[r.job] = version
                try statement.execute(arguments: [i + k + 1, r.job, version, r.type, r.at, r.at, r.node, r.index, r.data])
            }
        }
        elapsed += now() - start
        i += n
    }
    figures.append(("append_batched_eps", Double(config.events) / elapsed))
    // 2. Full scan reading every column of every row.
    let start = now()
    let scanned = try queue.read { db -> Int in
        var count = 0
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM events ORDER BY seq")
        while let r = try cursor.next() {
            let _: String = r[1]
            let _: String? = r[11]
            count += 1
        }
        return count
    }
    figures.append(("scan_eps", Double(scanned) / (now() - start)))
}

// 3. Durable appends: synchronous=FULL, one row per commit; then 64 concurrent writers.
do {
    var configuration = Configuration()
    configuration.prepareDatabase { db in
        try db.execute(sql: "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL")
    }
    let pool = try DatabasePool(path: base + "/durable.sqlite", configuration: configuration)
    // GRDB sets synchronous=NORMAL (no fsync per commit in WAL mode) after prepareDatabase; a durable
    // peer needs FULL on its one writer connection, set afterwards.
    try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous=FULL") }
    try pool.write(makeSchema)
    let writer = DurableWriter(pool: pool)
    let insert = writer.insert
    var start = now()
    for i in 0..<config.durableEvents { try insert(i) }
    figures.append(("append_durable_single_eps", Double(config.durableEvents) / (now() - start)))
    start = now()
    let per = config.concurrentEvents
    try await withThrowingTaskGroup(of: Void.self) { group in
        for a in 0..<64 {
            group.addTask { for k in 0..<per { try insert(1_000_000 + a * per + k) } }
        }
        try await group.waitForAll()
    }
    figures.append(("append_durable_concurrent_eps", Double(64 * per) / (now() - start)))
}

print("{" + figures.map { "\"\($0.0)\":\(Int($0.1.rounded()))" }.joined(separator: ",") + "}")

import Synchronization

/// One durable row per write transaction (GRDB serialises the writers).
struct DurableWriter: Sendable {
    let pool: DatabasePool
    let seq = Counter()

    func insert(_ i: Int) throws {
        let r = row(i)
        let next = seq.next()
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO events VALUES (?,?,?,?,?,?,?,NULL,NULL,?,NULL,?)",
                arguments: [next, r.job, i + 1, r.type, r.at, r.at, r.node, r.index, r.data])
        }
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { v in
            v += 1
            return v
        }
    }
}
