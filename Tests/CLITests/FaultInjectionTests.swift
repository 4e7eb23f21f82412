import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A failing disk (docs/operations.md, "When the disk fails"; docs/architecture.md, "A failing
/// disk"): Tools/faults/faults.c, preloaded into the real binary, fails the Nth write or sync on
/// the journal's files, for every N the operation makes. Whatever call fails:
///
/// | the command's answer                          | what a reopen must show            |
/// |-----------------------------------------------|------------------------------------|
/// | success (exit 0, 201)                         | the write stored                   |
/// | "nothing of it was stored" (exit 74/75, 503)   | the write absent                   |
/// | "may or may not be stored" (exit 74, 503)      | the write whole or absent          |
/// | any other answer                              | (a failure of this test)           |
///
/// and in every case `verify` is sound and everything acknowledged before is there.
@Suite(.enabled(if: FaultShim.library != nil, "needs a C compiler (cc) to build Tools/faults/faults.c"), .serialized, .timeLimit(.minutes(5)))
struct FaultInjectionTests {
    /// What the journal holds before each faulted command: the sample incident (12 events, 3 jobs).
    static let seededEvents = 12

    enum Outcome: Equatable { case stored, notStored, unknown }

    /// Reads a failed command's answer: exit 74 (device) or 75 (full) with the words the table
    /// names; anything else is not an acceptable answer to a failed write.
    static func outcome(_ out: ProcessOutput) -> Outcome? {
        if out.status == 0 { return .stored }
        guard out.status == 74 || out.status == 75 else { return nil }
        if out.stderr.contains("may or may not be stored") { return .unknown }
        if out.stderr.contains("nothing of it was stored") || out.stderr.contains("nothing of this one was stored") { return .notStored }
        return nil
    }

    /// The journal after a faulted command, opened without the shim: sound, and its event count.
    static func reopened(_ cli: CLI) throws -> Int {
        let verify = try cli.run(["verify"])
        #expect(verify.status == 0, "verify after a fault: \(verify.stdout) \(verify.stderr)")
        return try cli.eventCount()
    }

    /// Runs `args` on a fresh seeded journal once per fault point (every counted call, each kind and
    /// errno) and checks each answer against the table. Returns the number of fault points tried.
    static func everyFaultPoint(
        of args: [String], stdin: String? = nil, storedEvents: Int, changesEvents: Bool = true
    ) throws -> Int {
        var tried = 0
        for calls in ["write", "sync"] {
            let total = try FaultShim.count(args, stdin: stdin, calls: calls)
            #expect(total > 0, "\(args): no \(calls) call on the journal was seen; is the shim preloaded?")
            for errno in ["EIO", "ENOSPC"] {
                for n in 1...max(total, 1) {
                    let cli = try FaultShim.seeded()
                    defer { cli.cleanup() }
                    let out = try FaultShim.run(cli, args, stdin: stdin, fault: .init(at: n, calls: calls, errno: errno))
                    let context = "\(args.joined(separator: " ")), \(calls) call \(n) of \(total) failing with \(errno)"
                    let answer = try #require(Self.outcome(out), "\(context): unexpected answer \(out.status): \(out.stderr)")
                    let count = try reopened(cli)
                    switch answer {
                    case .stored: #expect(count == storedEvents, "\(context): exit 0 but \(count) events")
                    case .notStored: #expect(count == seededEvents, "\(context): said not stored, but \(count) events")
                    case .unknown: #expect([seededEvents, storedEvents].contains(count), "\(context): \(count) events")
                    }
                    if !changesEvents { #expect(count == seededEvents, "\(context)") }
                    tried += 1
                }
            }
        }
        return tried
    }

    @Test func anAppendAnswersEveryFaultPointTruthfully() throws {
        let tried = try Self.everyFaultPoint(
            of: ["append", "--job", "a-job", "--type", "progress", "--data", #"{"done":5}"#], storedEvents: Self.seededEvents + 1)
        print("fault points tried for append: \(tried)")
    }

    @Test func anIngestAnswersEveryFaultPointTruthfully() throws {
        let lines = (0..<200).map { i in #"{"job":"new-\#(i % 20)","type":"heartbeat","data":{"i":\#(i)}}"# }.joined(separator: "\n")
        let tried = try Self.everyFaultPoint(of: ["ingest", "-"], stdin: lines + "\n", storedEvents: Self.seededEvents + 200)
        print("fault points tried for ingest: \(tried)")
    }

    @Test func aSnapshotAnswersEveryFaultPointTruthfully() throws {
        let tried = try Self.everyFaultPoint(of: ["snapshot"], storedEvents: Self.seededEvents, changesEvents: false)
        print("fault points tried for snapshot: \(tried)")
    }

    @Test func anInPlaceDropAnswersEveryFaultPointTruthfully() throws {
        // The sample's a-job has three heartbeats in one attempt: two are superseded.
        let tried = try Self.everyFaultPoint(of: ["compact", "--drop-superseded-heartbeats"], storedEvents: Self.seededEvents - 2)
        print("fault points tried for the in-place drop: \(tried)")
    }

    /// The offline rewrite: its copy fails or its swap is not durable; the events are the same either way.
    @Test func anOfflineCompactionAnswersEveryFaultPointTruthfully() throws {
        let tried = try Self.everyFaultPoint(of: ["compact"], storedEvents: Self.seededEvents)
        print("fault points tried for the offline compaction: \(tried)")
    }

    /// The service: appends one job per request until one fails; the failed one is answered 503
    /// saying whether it was stored, every later one 503 `writes are stopped`, `/healthz` says
    /// stopped with the reason; after a kill -9 and a reopen, every 201 is there and every append
    /// said not stored is not.
    @Test func theServiceStopsWritingAfterADeviceFailureAndLosesNothingAcknowledged() throws {
        var tried = 0
        for calls in ["write", "sync"] {
            for n in [1, 2, 3, 4, 5, 6, 8, 11] {
                let cli = try FaultShim.seeded()
                defer { cli.cleanup() }
                let context = "serve, \(calls) call \(n) failing"
                let port = HTTPProbe.freePort()
                let serve = try ChildProcess(
                    builtExecutable("logbook"), ["--journal", cli.journal, "serve", "--port", String(port)],
                    environment: FaultShim.environment(cli, fault: .init(at: n, calls: calls, errno: "EIO")))
                defer { serve.kill9() }
                // Up, or exited: whichever the child shows first (no deadline to outwait on a slow machine).
                var answered = false
                while !answered && serve.process.isRunning {
                    answered = HTTPProbe.request(port: port, "GET", "/healthz").map { $0.status == 200 || $0.status == 503 } ?? false
                    if !answered { usleep(20_000) }
                }
                guard answered else {
                    // The fault met the service's start: it must have said so and stored nothing.
                    serve.process.waitUntilExit()
                    #expect(serve.diagnosis.contains("failed at the device"), "\(context): \(serve.diagnosis)")
                    #expect(try Self.reopened(cli) == Self.seededEvents)
                    tried += 1
                    continue
                }
                var acknowledged: [String] = []
                var refused: [String] = []
                var failure: HTTPProbe.Response?
                for i in 0..<8 {
                    let job = "svc-\(i)"
                    let answer = try #require(HTTPProbe.request(port: port, "POST", "/jobs/\(job)/events", body: #"{"type":"created"}"#))
                    switch answer.status {
                    case 201:
                        #expect(failure == nil, "\(context): an append was stored after the writer stopped")
                        acknowledged.append(job)
                    case 503:
                        if failure == nil {
                            failure = answer
                            #expect(answer.body.contains("failed at the device"), "\(context): \(answer.body)")
                        } else {
                            #expect(answer.body.contains("writes are stopped"), "\(context): \(answer.body)")
                        }
                        if !answer.body.contains("may or may not be stored") { refused.append(job) }
                    default:
                        Issue.record("\(context): append answered \(answer.status): \(answer.body)")
                    }
                }
                if failure != nil {
                    let health = try #require(HTTPProbe.request(port: port, "GET", "/healthz"))
                    #expect(health.status == 503 && health.body.contains(#""status":"stopped""#), "\(context): \(health.body)")
                    #expect(health.body.contains("failed at the device"), "\(context): \(health.body)")
                    let metrics = try #require(HTTPProbe.request(port: port, "GET", "/metrics"))
                    #expect(metrics.body.contains(#"logbook_storage_errors_total{kind="device"}"#), "\(context)")
                }
                serve.kill9()
                _ = try Self.reopened(cli)
                let exported = try cli.ok(["export"])
                for job in acknowledged { #expect(exported.contains(#""job":"\#(job)""#), "\(context): acknowledged \(job) is missing") }
                for job in refused { #expect(!exported.contains(#""job":"\#(job)""#), "\(context): \(job) was said not stored") }
                tried += 1
            }
        }
        print("fault points tried for the service: \(tried)")
    }

    /// The shim itself: a fault it injects is seen by the binary, and without LOGBOOK_FAULT_AT it
    /// only counts (so the counts the tests above rely on are of real calls).
    @Test func theShimCountsWithoutFailingAndFailsTheCallItIsTold() throws {
        let cli = try FaultShim.seeded()
        defer { cli.cleanup() }
        let counted = try FaultShim.count(["append", "--job", "b-job", "--type", "heartbeat"], calls: "all")
        #expect(counted >= 3, "an append writes its pages, syncs them, and writes a meta page: \(counted)")
        let out = try FaultShim.run(cli, ["append", "--job", "b-job", "--type", "heartbeat"], fault: .init(at: 1, calls: "sync", errno: "EIO"))
        #expect(out.status == 74, "\(out.stderr)")
        #expect(out.stderr.contains("journal \(cli.journal): a write failed at the device (Input/output error); nothing of it was stored"), "\(out.stderr)")
    }
}

/// Builds Tools/faults/faults.c once and runs the binary with it preloaded.
enum FaultShim {
    struct Fault {
        var at: Int
        var calls: String
        var errno: String
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = TemporaryDirectory("faults")

    /// The shim, compiled with the system's C compiler; nil where there is none.
    static let library: String? = {
        let output = directory.file("libfaults.so")
        let source = root.appendingPathComponent("Tools/faults/faults.c").path
        // Swift's toolchain brings clang; a Debian machine may also have cc.
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        let compilers = ["cc", "clang", "gcc"].flatMap { name in path.map { "\($0)/\(name)" } }
        guard let cc = compilers.first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
            let built = try? TestSupport.run(cc, ["-shared", "-fPIC", "-O2", "-o", output, source, "-ldl"]), built.status == 0
        else { return nil }
        return output
    }()

    /// A journal holding the sample incident, in a directory of its own (the shim counts calls on
    /// files under it: the journal, its lock files, a compaction's copy).
    static func seeded() throws -> CLI {
        let cli = CLI()
        _ = try cli.ok(["ingest", "-"], stdin: sampleLines)
        return cli
    }

    static func environment(_ cli: CLI, fault: Fault?, report: String? = nil) -> [String: String] {
        var env = ["LD_PRELOAD": library ?? "", "LOGBOOK_FAULT_PATH": cli.dir.path + "/"]
        if let fault {
            env["LOGBOOK_FAULT_AT"] = String(fault.at)
            env["LOGBOOK_FAULT_CALLS"] = fault.calls
            env["LOGBOOK_FAULT_ERRNO"] = fault.errno
        }
        if let report { env["LOGBOOK_FAULT_REPORT"] = report }
        return env
    }

    static func run(_ cli: CLI, _ args: [String], stdin: String? = nil, fault: Fault?, report: String? = nil) throws -> ProcessOutput {
        try TestSupport.run(
            builtExecutable("logbook"), ["--journal", cli.journal] + args, stdin: stdin.map { Data($0.utf8) },
            environment: environment(cli, fault: fault, report: report))
    }

    /// How many calls of the kind `args` makes on a fresh seeded journal, counted without failing any.
    static func count(_ args: [String], stdin: String? = nil, calls: String) throws -> Int {
        let cli = try seeded()
        defer { cli.cleanup() }
        let report = directory.file("report-\(UUID().uuidString)")
        var env = environment(cli, fault: nil, report: report)
        env["LOGBOOK_FAULT_CALLS"] = calls
        let out = try TestSupport.run(
            builtExecutable("logbook"), ["--journal", cli.journal] + args, stdin: stdin.map { Data($0.utf8) }, environment: env)
        #expect(out.status == 0, "\(args) without a fault: \(out.stderr)")
        let text = try String(contentsOfFile: report, encoding: .utf8)
        guard let field = text.split(separator: " ").first, field.hasPrefix("calls="), let n = Int(field.dropFirst(6)) else {
            Issue.record("unreadable report: \(text)")
            return 0
        }
        return n
    }
}
