import Foundation
import Journal
import Lifecycle
import TestSupport
import Testing

/// kill -9 a real appending process at random moments; nothing acknowledged may be lost, no batch
/// may be half there, seqs stay contiguous, every record passes its CRC.
@Suite(.serialized) struct CrashTests {
    struct Ack: Hashable {
        var first: UInt64
        var last: UInt64
    }

    func acks(_ lines: [String]) -> [Ack] {
        lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 4, parts[0] == "ack", let f = UInt64(parts[1]), let l = UInt64(parts[2]) else { return nil }
            return Ack(first: f, last: l)
        }
    }

    /// Checks the journal after a crash; returns the number of events in it.
    func checkJournal(_ path: String, acknowledged: [Ack], batch: Int, writerIsLive: Bool = false) throws -> Int {
        var options = Journal.Options()
        options.readOnly = true
        let journal = try Journal.open(at: path, options: options)
        defer { journal.close() }
        var batches: [String: Int] = [:]
        var expected: UInt64 = 1
        var perJobVersion: [String: UInt64] = [:]
        try journal.scan { e in
            #expect(e.seq == expected, "seqs must be contiguous")
            expected += 1
            let v = (perJobVersion[e.event.job] ?? 0) + 1
            #expect(e.version == v, "versions must count each job's events")
            perJobVersion[e.event.job] = v
            // data = {"run":PID,"thread":T,"batch":B,"k":K,"of":N}
            let key = e.event.data.map { String($0.split(separator: ",").prefix(3).joined(separator: ",")) } ?? ""
            batches[key, default: 0] += 1
            return true
        }
        let count = Int(expected - 1)
        for (key, n) in batches { #expect(n == batch, "batch \(key) is partially applied (\(n) of \(batch))") }
        for ack in acknowledged { #expect(ack.last <= UInt64(count), "acknowledged seqs \(ack.first)...\(ack.last) are lost") }
        if !writerIsLive {  // the index agrees with the log (a live writer would have moved on since the scan)
            for job in perJobVersion.keys { #expect(try journal.version(of: job) == perJobVersion[job]) }
        }
        return count
    }

    @Test func killNineNeverLosesAcknowledgedEvents() throws {
        let dir = TemporaryDirectory("crash")
        defer { dir.cleanup() }
        let path = dir.file("crash.journal")
        let harness = builtExecutable("logbook-crash-harness")
        var previous = 0
        for round in 0..<6 {
            let child = try ChildProcess(harness, [path, "--batch", "5", "--threads", "4"])
            #expect(child.waitForLine { $0 == "ready" }, "harness did not start")
            usleep(UInt32.random(in: 30_000...250_000))
            child.kill9()
            let acked = acks(child.outputLines)
            let count = try checkJournal(path, acknowledged: acked, batch: 5)
            #expect(count >= previous, "round \(round): the journal shrank")
            #expect(count > previous || acked.isEmpty, "round \(round): no progress")
            previous = count
        }
        #expect(previous > 0)
    }

    @Test func readOnlyProcessSeesAConsistentPrefixWhileAnotherAppends() throws {
        let dir = TemporaryDirectory("readers")
        defer { dir.cleanup() }
        let path = dir.file("shared.journal")
        let child = try ChildProcess(builtExecutable("logbook-crash-harness"), [path, "--batch", "7", "--threads", "2"])
        defer { child.kill9() }
        #expect(child.waitForLine { $0 == "ready" })
        var last = 0
        for _ in 0..<15 {
            usleep(30_000)
            let count = try checkJournal(path, acknowledged: [], batch: 7, writerIsLive: true)
            #expect(count >= last)
            last = count
        }
        #expect(last > 0)
    }
}

@Suite struct StaleReaderTests {
    @Test func aReaderSlotLeftByAKilledProcessIsCleared() async throws {
        let dir = TemporaryDirectory("stale")
        defer { dir.cleanup() }
        let path = dir.file("stale.journal")
        // This process keeps the journal open throughout, as a service would; otherwise the next
        // opener, alone, would simply reset LMDB's reader table.
        let journal = try Journal.open(at: path)
        defer { journal.close() }
        try await journal.append(Event(job: "a", type: .created))
        let holder = try ChildProcess(builtExecutable("logbook-crash-harness"), [path, "--hold-read"])
        #expect(holder.waitForLine { $0 == "holding" })
        holder.kill9()
        #expect(try journal.clearStaleReaders() == 1)
        #expect(try journal.clearStaleReaders() == 0)
        try await journal.append(Event(job: "a", type: .started))
        #expect(try journal.lastSeq() == 2)
    }
}
