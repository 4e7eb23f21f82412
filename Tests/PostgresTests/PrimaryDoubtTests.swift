import Logbook
@testable import LogbookPostgres
import Testing

/// Which failures make a node ask the members again which one is the primary (docs/scale-out.md,
/// "Finding the primary"). No PostgreSQL needed: one row per kind of failure.
@Suite struct PrimaryDoubtTests {
    static let rows: [(failure: SharedLogError, sqlState: String?, doubts: Bool, why: String)] = [
        (.unavailable("cannot connect: Connection refused"), nil, true, "the member is gone"),
        (.outcomeUnknown("no answer within 5 s"), nil, true, "no answer: a failover may be under way"),
        (.unavailable("read-only (SQLSTATE 25006)"), "25006", true, "a demoted member: find the new primary"),
        (.unavailable("shutting down (SQLSTATE 57P01)"), "57P01", true, "the member is stopping"),
        (.unavailable("starting up (SQLSTATE 57P03)"), "57P03", true, "the member is not ready"),
        (.unavailable("connection failure (SQLSTATE 08006)"), "08006", true, "the connection broke"),
        (.unavailable("too many connections (SQLSTATE 53300)"), "53300", true, "another member may serve"),
        (.unavailable("could not serialize (SQLSTATE 40001)"), "40001", false, "rolled back; the primary answered"),
        (.unavailable("deadlock detected (SQLSTATE 40P01)"), "40P01", false, "rolled back; the primary answered"),
        (.unavailable("duplicate key (SQLSTATE 23505)"), "23505", false, "another writer won; the primary answered"),
        (.failed("relation does not exist (SQLSTATE 42P01)"), "42P01", false, "final: retrying changes nothing"),
    ]

    @Test(arguments: 0..<rows.count) func row(_ i: Int) {
        let row = Self.rows[i]
        #expect(PostgresLog.doubtsPrimary(row.failure, sqlState: row.sqlState) == row.doubts, "\(row.why)")
    }
}
