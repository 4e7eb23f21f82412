import Logbook
import PostgresNIO

/// How a failure is reported: what a retry may do with it, and whether the primary is still trusted.
extension PostgresLog {
    /// Rolled back by PostgreSQL for reasons that say nothing of the member that answered: a
    /// serialization failure, a deadlock, a unique violation from another writer (re-read under the
    /// locks, it becomes a version conflict). A retry may succeed on the same primary.
    static let rolledBackForARetry: [PostgresError.Code] = [.serializationFailure, .deadlockDetected, .uniqueViolation]

    /// The member cannot serve now: shutting down or starting, out of connections, or read-only (no
    /// longer the primary). A retry may succeed once the primary is found again.
    static let memberCannotServe: [PostgresError.Code] = [
        .adminShutdown, .crashShutdown, .cannotConnectNow, .tooManyConnections, .readOnlySqlTransaction,
    ]

    /// Sorts a failure by what a retry may do: a server's answer is final, but for the rollbacks and
    /// the members above and a connection exception (class 08), which a retry may fix; anything else
    /// lost the connection, so the outcome of a commit in flight is unknown.
    static func classify(_ error: any Error) -> SharedLogError {
        if let e = error as? SharedLogError { return e }
        guard let psql = error as? PSQLError else { return .outcomeUnknown("\(error)") }
        if let info = psql.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = "\(info[.message] ?? "error") (SQLSTATE \(state))"
            let code = PostgresError.Code(raw: state)
            if rolledBackForARetry.contains(code) || memberCannotServe.contains(code) || state.hasPrefix("08") {
                return .unavailable(message)
            }
            return .failed(message)
        }
        switch psql.code {
        case .connectionError, .poolClosed: return .unavailable("cannot connect: \(psql.underlying.map { "\($0)" } ?? "\(psql.code)")")
        default: return .outcomeUnknown("\(psql.code)\(psql.underlying.map { ": \($0)" } ?? "")")
        }
    }

    /// Whether `failure` means the primary may have changed or gone, so that the next call asks the
    /// members again (with one member: makes one direct connection first, to name the cause at once).
    /// A final failure, or a transaction PostgreSQL rolled back for a retry, leaves the primary trusted.
    static func doubtsPrimary(_ failure: SharedLogError, sqlState: String?) -> Bool {
        if case .failed = failure { return false }
        if let sqlState, rolledBackForARetry.contains(PostgresError.Code(raw: sqlState)) { return false }
        return true
    }
}
