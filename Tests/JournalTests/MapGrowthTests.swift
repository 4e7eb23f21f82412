import Foundation
import Journal
import Lifecycle
import TestSupport
import Testing

/// A journal whose map starts at 1 MiB, so a few appends make it grow.
private func openTinyMap(_ path: String) throws -> Journal {
    var options = Journal.Options()
    options.initialMapSize = 1 << 20
    options.durability = .noSync
    return try Journal.open(at: path, options: options)
}

@Suite struct MapGrowthTests {
    @Test func tinyMapGrowsPastOneGiBWithoutAnErrorSurfacing() async throws {
        let dir = TemporaryDirectory("growth")
        defer { dir.cleanup() }
        let journal = try openTinyMap(dir.file("big.journal"))
        defer { journal.close() }
        let payload = "{\"pad\":\"" + String(repeating: "x", count: 1 << 20) + "\"}"
        var total = 0
        while total < (1 << 30) + (64 << 20) {
            let items = (0..<16).map { AppendItem(Event(job: "big-\($0)", type: .progress, data: payload)) }
            try await journal.append(items)
            total += 16 * payload.utf8.count
        }
        #expect(journal.mapGrowths > 0)
        #expect(journal.mapSize > 1 << 30)
        #expect(journal.fileSize > 1 << 30)
        let last = try #require(try journal.event(at: try journal.lastSeq()))
        #expect(last.event.data == payload)
    }
}

/// A write that fills the map is retried whole after the map grows. The writer's version cache is
/// mutated during the first try: the retry must not see those versions (each job's versions stay
/// exactly 1, 2, 3…, none skipped).
@Suite struct GrowthRetryTests {
    @Test func versionsStayContiguousAcrossWritesRetriedAfterGrowth() async throws {
        let dir = TemporaryDirectory("retry")
        defer { dir.cleanup() }
        let journal = try openTinyMap(dir.file("retry.journal"))
        defer { journal.close() }
        let payload = "{\"pad\":\"" + String(repeating: "z", count: 48 << 10) + "\"}"
        for round in 0..<40 {
            try await journal.append((0..<8).map { AppendItem(Event(job: "job-\($0)", type: .progress, index: UInt64(round), data: payload)) })
        }
        #expect(journal.mapGrowths > 0)
        for job in 0..<8 {
            #expect(try journal.events(ofJob: "job-\(job)").map(\.version) == Array(1...40))
        }
        #expect(try journal.verify().records == 320)
    }
}

@Suite struct CrossProcessGrowthTests {
    @Test func aReaderProcessAdoptsTheMapAnotherProcessGrew() async throws {
        let dir = TemporaryDirectory("resized")
        defer { dir.cleanup() }
        let path = dir.file("grow.journal")
        var options = Journal.Options()
        options.initialMapSize = 1 << 20
        options.durability = .noSync
        let writer = try Journal.open(at: path, options: options)
        defer { writer.close() }
        try await writer.append(Event(job: "seed", type: .created))
        let reader = try ChildProcess(builtExecutable("logbook-crash-harness"), [path, "--read", "--map-size", "1048576"])
        defer { reader.kill9() }
        #expect(reader.waitForLine { $0 == "seen 1" })
        let payload = "{\"pad\":\"" + String(repeating: "y", count: 64 << 10) + "\"}"
        for batch in 0..<25 {
            try await writer.append((0..<20).map { AppendItem(Event(job: "big-\(batch)", type: .progress, index: UInt64($0), data: payload)) })
        }
        #expect(writer.mapGrowths > 0 && writer.mapSize > 16 << 20, "the writer grew the map")
        #expect(reader.waitForLine { $0 == "seen 501" }, "the reader saw every event: \(reader.outputLines.suffix(3))")
        #expect(!reader.outputLines.contains { $0.hasPrefix("error") }, "\(reader.outputLines.filter { $0.hasPrefix("error") })")
    }
}
