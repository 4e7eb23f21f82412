import Foundation
import Journal
import Lifecycle
import TestSupport
import Testing

@Suite struct MapGrowthTests {
    @Test func tinyMapGrowsPastOneGiBWithoutAnErrorSurfacing() async throws {
        let dir = TemporaryDirectory("growth")
        defer { dir.cleanup() }
        var options = Journal.Options()
        options.initialMapSize = 1 << 20
        options.durability = .noSync
        let journal = try Journal.open(at: dir.file("big.journal"), options: options)
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
