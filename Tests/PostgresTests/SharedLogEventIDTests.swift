import Foundation
import Journal
import Logbook
@testable import LogbookPostgres
import TestSupport
import Testing

/// Client event ids on a shared PostgreSQL log (docs/service.md, "Retries and event ids"): the
/// client's id is the shared log's `event_id`, and a retry through any node is stored once.
extension SharedLogNodeTests {
    static func batch(_ ids: [EventID], job: String = "j") -> [AppendItem] {
        ids.enumerated().map { i, id in AppendItem(Event(job: job, type: i == 0 ? .created : .heartbeat, id: id)) }
    }

    @Test func aRetryThroughAnotherNodeIsStoredOnceAndAnsweredWithTheFirstSeqs() async throws {
        try await withNodes(2) { nodes, paths, log in
            let ids = [EventID.random(), EventID.random()]
            let first = try await nodes[0].append(Self.batch(ids))
            #expect(!first.replayed && first.seqs == [1, 2])
            #expect(try await log.read(after: nil, limit: 10).map(\.id) == ids, "the client's ids are the shared log's event ids")
            // Node b has not applied them yet (no poll): the commit function finds them stored whole.
            let retry = try await nodes[1].append(Self.batch(ids))
            #expect(retry.replayed && retry.seqs == [1, 2], "a replay, though node b learnt it from the commit function")
            // Applied now: node b answers the next retry from its replica, as a replay.
            let again = try await nodes[1].append(Self.batch(ids))
            #expect(again.replayed && again.seqs == [1, 2])
            #expect(try await log.read(after: nil, limit: 10).count == 2, "stored once")
            try await nodes[0].catchUp()
            #expect(try Self.export(paths[0]) == Self.export(paths[1]))
            #expect(try Self.export(paths[0]).contains(#""id":"\#(ids[0])""#))
        }
    }

    @Test func aMixedOrReusedIdIsRefusedThroughTheSharedLog() async throws {
        try await withNodes(2) { nodes, _, log in
            let ids = [EventID.random(), EventID.random()]
            _ = try await nodes[0].append(Self.batch([ids[0]]))
            // Node b has not applied it: the shared log refuses the mixed batch.
            await #expect(throws: JournalError.self) { try await nodes[1].append(Self.batch(ids)) }
            // Another event under a stored id: refused once node b sees what is stored under it.
            do {
                _ = try await nodes[1].append([AppendItem(Event(job: "other", type: .created, id: ids[0]))])
                Issue.record("a reused id was accepted")
            } catch {
                guard case JournalError.idConflict(let id, _) = error else { throw error }
                #expect(id == ids[0])
            }
            // Node a, which applied it, refuses both from its replica.
            await #expect(throws: JournalError.self) { try await nodes[0].append(Self.batch(ids)) }
            #expect(try await log.read(after: nil, limit: 10).count == 1, "nothing of the refused batches")
        }
    }
}
