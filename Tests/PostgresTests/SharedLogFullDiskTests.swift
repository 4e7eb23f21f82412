import Foundation
import Journal
import Logbook
@testable import LogbookPostgres
import TestSupport
import Testing

/// A full disk at PostgreSQL (`53100 disk_full`) reaches a node as a full disk, like its own
/// journal's (docs/operations.md, "When the disk fills"): refused whole, named, and over once
/// space is freed there. PostgreSQL runs on a real small filesystem the test fills.
@Suite(.enabled(if: PostgresServer.available && SmallFilesystem.available), .serialized, .timeLimit(.minutes(10)))
struct SharedLogFullDiskTests {
    @Test func aFullDiskAtPostgreSQLIsAFullDiskAndNothingOfTheBatchIsStored() async throws {
        let fs = try #require(SmallFilesystem(mebibytes: 128))
        defer { fs.unmount() }
        let server = try PostgresServer(in: fs.path)
        defer { server.stop() }
        let dir = TemporaryDirectory("full-node")
        defer { dir.cleanup() }
        let log = try PostgresLog(url: server.url)
        var options = Logbook.Options()
        options.durability = .noSync
        options.sharedLog = log
        options.warn = { _ in }
        let node = try Logbook.open(at: dir.file("node.journal"), options: options)
        _ = try await node.append(Event(job: "before", type: .created))
        fs.fillUp("other-data")
        let pad = #"{"pad":""# + String(repeating: "p", count: 500) + #""}"#
        do throws(JournalError) {
            _ = try await node.append((0..<2_000).map { Event(job: "big-\($0)", type: .created, data: pad) })
            Issue.record("a batch was stored on a full disk")
        } catch {
            guard case .storageFull(let path, _, let free, let cause) = error else {
                Issue.record("a full disk at PostgreSQL answered \(error)")
                return
            }
            #expect(path.contains(log.name) && free == nil, "\(error)")
            #expect(cause.contains("53100"), "\(cause)")
        }
        try FileManager.default.removeItem(atPath: fs.file("other-data"))
        _ = try await node.append(Event(job: "after", type: .created))
        try await node.catchUp()
        #expect(try node.maintenance.lastSeq() == 2, "nothing of the refused batch")
        node.close()
        await log.shutdown()
    }
}
