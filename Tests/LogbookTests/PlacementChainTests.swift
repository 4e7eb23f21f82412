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
        #expect(shared.placements.withLock { $0.nextAfter } == Self.cursor(0), "an empty replica: after the start")
        _ = shared.nextPlacement(after: Self.cursor(4))  // the follower applied through 4
        #expect(shared.placements.withLock { $0.nextAfter } == Self.cursor(4))
        shared.placed(Self.rows([5, 6]), after: Self.cursor(4))
        #expect(shared.placements.withLock { $0.nextAfter } == Self.cursor(6), "the next commit asks to come after the last placed row")
        _ = shared.takeReadWanted()
        shared.placed(nil, after: Self.cursor(6))
        #expect(shared.placements.withLock { $0.nextAfter } == Self.cursor(4), "not placed: after what the follower applied")
        #expect(shared.takeReadWanted(), "and the follower reads")
        #expect(!shared.takeReadWanted())
    }

    @Test func forgettingDropsEveryPlacementAndWantsARead() {
        let shared = replication()
        shared.placed(Self.rows([5]), after: Self.cursor(4))
        _ = shared.takeReadWanted()
        shared.forgetPlacements()
        #expect(shared.nextPlacement(after: Self.cursor(4)) == nil)
        #expect(shared.placements.withLock { $0.nextAfter } == Self.cursor(4))
        #expect(shared.takeReadWanted())
    }

    @Test func aPlacementTheFollowerReadIntoGivesTheRestOfItsRows() {
        let shared = replication()
        shared.placed(Self.rows([5, 6, 7]), after: Self.cursor(4))
        #expect(shared.nextPlacement(after: Self.cursor(5))?.map(\.cursor) == [Self.cursor(6), Self.cursor(7)])
        shared.placed(Self.rows([9, 10]), after: Self.cursor(7))
        #expect(shared.nextPlacement(after: Self.cursor(8)) == nil, "a cursor none of its rows has: the follower reads")
    }

    // Notices of other nodes' commits (docs/scale-out.md, "Other nodes' rows, placed"): one test per row.

    /// Row: a notice without its transaction is read at once.
    @Test func aNoticeWithoutItsTransactionIsRead() {
        let shared = replication()
        _ = shared.takeReadWanted()
        shared.noticed(nil)
        #expect(shared.takeReadWanted())
    }

    /// Row: a transaction before what the follower applied, or before a placed commit's rows, is not read.
    @Test func aNoticeOfRowsAppliedOrPlacedIsNotRead() {
        let shared = replication()
        _ = shared.nextPlacement(after: Self.cursor(4))
        _ = shared.takeReadWanted()
        shared.noticed(3)
        #expect(!shared.takeReadWanted() && shared.noticeWait() == nil, "applied already")
        _ = shared.beginCommit()
        shared.placed(Self.rows([5, 9]), after: Self.cursor(4))
        _ = shared.takeReadWanted()
        shared.noticed(7)
        #expect(!shared.takeReadWanted() && shared.noticeWait() == nil, "the placed commit (tx 9) came after it: its answer brought it")
    }

    /// Row: a later transaction with no commit in flight is read after the grace, counted from the
    /// first such notice (later ones do not push the read back).
    @Test func aNoticeWithNoCommitInFlightIsReadAfterTheGrace() {
        let shared = replication()
        _ = shared.takeReadWanted()
        shared.noticed(12)
        #expect(!shared.takeReadWanted(), "not at once")
        let wait = shared.noticeWait()
        #expect(wait != nil && wait! <= SharedReplication.noticeGrace)
        shared.noticed(13)
        #expect(shared.noticeWait().map { $0 <= wait! } == true, "counted from the first notice")
        #expect(shared.noticeWait() != nil, "so the follower reads when the grace ends")
        shared.readStarts()
        #expect(shared.noticeWait() == nil, "a read answers it")
    }

    /// What the follower does with a notice once a commit's answer came.
    enum Then: Sendable { case nothing, readAfterTheGrace, readAtOnce }

    /// Rows: with a commit in flight (or one beginning within the grace), its answer decides: placed
    /// after the notified transaction, nothing; placed before it (that commit took the order lock
    /// next), it waits for the next commit or the grace, counted from the answer; not placed, read.
    @Test(arguments: [(placedThrough: Int64?(20), then: Then.nothing), (10, .readAfterTheGrace), (nil, .readAtOnce)], [false, true])
    func aNoticeDuringACommitWaitsForItsAnswer(_ answer: (placedThrough: Int64?, then: Then), noticedFirst: Bool) {
        let shared = replication()
        _ = shared.takeReadWanted()
        if noticedFirst { shared.noticed(15) }
        let after = shared.beginCommit()
        if !noticedFirst { shared.noticed(15) }
        #expect(!shared.takeReadWanted() && shared.noticeWait() == nil, "the commit's answer decides")
        shared.placed(answer.placedThrough.map { Self.rows([$0]) }, after: after)
        let then: Then = shared.takeReadWanted() ? .readAtOnce : shared.noticeWait() != nil ? .readAfterTheGrace : .nothing
        #expect(then == answer.then)
        if then == .readAfterTheGrace {
            _ = shared.beginCommit()
            #expect(shared.noticeWait() == nil, "the next commit began: its answer decides")
        }
    }

    /// A commit asks to be placed after what the follower applied when a read took it past the last
    /// placed row (else it would bring rows the follower has).
    @Test func aCommitAfterAReadPastThePlacedRowsAsksForWhatFollows() {
        let shared = replication()
        _ = shared.beginCommit()
        shared.placed(Self.rows([5]), after: Self.cursor(4))
        _ = shared.nextPlacement(after: Self.cursor(4))
        _ = shared.nextPlacement(after: Self.cursor(9))  // a read applied through 9
        #expect(shared.beginCommit() == Self.cursor(9))
    }
}
