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
    ///
    /// A transaction's failure is sorted by where it happened: before COMMIT was sent (BEGIN, the
    /// transaction's statements, a connection lost meanwhile) nothing was stored, so it is never
    /// unknown; only the COMMIT's own failure can be.
    static func classify(_ error: any Error) -> SharedLogError {
        if let e = error as? SharedLogError { return e }
        if let t = error as? PostgresTransactionError {
            if let commit = t.commitError { return classify(commit) }
            if let before = t.closureError ?? t.beginError { return classify(NotCommitted(error: before)) }
        }
        if let notCommitted = error as? NotCommitted {
            return switch classify(notCommitted.error) {
            case .outcomeUnknown(let why): .unavailable(why + " (before COMMIT: nothing was stored)")
            case let known: known
            }
        }
        guard let psql = error as? PSQLError else { return .outcomeUnknown("\(error)") }
        if let info = psql.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = "\(info[.message] ?? "error") (SQLSTATE \(state))"
            let code = PostgresError.Code(raw: state)
            if code == .diskFull { return .storageFull(message) }
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

    /// The server's error inside `error`, however it is wrapped (a transaction's phase).
    static func serverError(in error: any Error) -> PSQLError? {
        switch error {
        case let psql as PSQLError: psql
        case let notCommitted as NotCommitted: serverError(in: notCommitted.error)
        case let t as PostgresTransactionError: (t.commitError ?? t.closureError ?? t.beginError).flatMap { serverError(in: $0) }
        default: nil
        }
    }

    /// Whether `failure` means the primary may have changed or gone, so that the next call asks the
    /// members again (with one member: makes one direct connection first, to name the cause at once).
    /// A final failure, or a transaction PostgreSQL rolled back for a retry, leaves the primary trusted.
    static func doubtsPrimary(_ failure: SharedLogError, sqlState: String?) -> Bool {
        if case .failed = failure { return false }
        if case .incompatible = failure { return false }
        if case .storageFull = failure { return false }
        if let sqlState, rolledBackForARetry.contains(PostgresError.Code(raw: sqlState)) { return false }
        return true
    }
}

/// A failure of a transaction before its COMMIT was sent: PostgreSQL stored nothing of it.
struct NotCommitted: Error {
    var error: any Error
}
