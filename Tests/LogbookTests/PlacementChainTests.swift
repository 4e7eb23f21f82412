import Journal
@testable import Logbook
import Testing

/// How a node keeps the rows its commits placed in the shared log's follow order until its follower
/// applies them (docs/scale-out.md, "Own rows, placed"): one test per rule.
struct PlacementChainTests {
    static func rows(_ places: [Int64]) -> [SharedLogRow] {
        places.map { SharedLogRow(cursor: ReplicaCursor(tx: $0, position: $0), version: 1, record: [], id: .random()) }
    }

    static func cursor(_ n: Int64) -> ReplicaCursor { ReplicaCursor(tx: n, position: n) }

    func replication() -> SharedReplication { SharedReplication(log: MemoryLog(), retryWindow: .seconds(1)) }

    @Test func aPlacementIsAppliedOnlyRightAfterItsCursor() {
        let shared = replication()
        shared.placed(Self.rows([5, 6]), after: Self.cursor(4))
        #expect(shared.nextPlacement(after: Self.cursor(3)) == nil, "the follower is behind: it reads")
        #expect(shared.nextPlacement(after: Self.cursor(4))?.map(\.cursor) == [Self.cursor(5), Self.cursor(6)])
        #expect(shared.nextPlacement(after: Self.cursor(6)) == nil, "taken once")
    }

    @Test func placementsTheFollowerReadPastAreDropped() {
        let shared = replication()
        shared.placed(Self.rows([5]), after: Self.cursor(4))
        shared.placed(Self.rows([7, 8]), after: Self.cursor(5))
        // A read applied 5 and 6 (another node's): the first placement is behind, the second not at it.
        #expect(shared.nextPlacement(after: Self.cursor(6)) == nil)
        #expect(shared.nextPlacement(after: Self.cursor(8)) == nil, "read past too: dropped")
        shared.placed(Self.rows([9]), after: Self.cursor(8))
        #expect(shared.nextPlacement(after: Self.cursor(8))?.count == 1)
    }

    @Test func placedCommitsChainAndOneNotPlacedBreaksTheChain() {
        let shared = replication()
        #expect(shared.placementCursor() == Self.cursor(0), "an empty replica: after the start")
        _ = shared.nextPlacement(after: Self.cursor(4))  // the follower applied through 4
        #expect(shared.placementCursor() == Self.cursor(4))
        shared.placed(Self.rows([5, 6]), after: Self.cursor(4))
        #expect(shared.placementCursor() == Self.cursor(6), "the next commit asks to come after the last placed row")
        _ = shared.takeReadWanted()
        shared.placed(nil, after: Self.cursor(6))
        #expect(shared.placementCursor() == Self.cursor(4), "not placed: after what the follower applied")
        #expect(shared.takeReadWanted(), "and the follower reads")
        #expect(!shared.takeReadWanted())
    }

    @Test func forgettingDropsEveryPlacementAndWantsARead() {
        let shared = replication()
        shared.placed(Self.rows([5]), after: Self.cursor(4))
        _ = shared.takeReadWanted()
        shared.forgetPlacements()
        #expect(shared.nextPlacement(after: Self.cursor(4)) == nil)
        #expect(shared.placementCursor() == Self.cursor(4))
        #expect(shared.takeReadWanted())
    }
}
