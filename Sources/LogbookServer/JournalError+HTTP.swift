import HTTPTypes
import Hummingbird
import Logbook

extension JournalError {
    /// The one mapping of a journal's refusal to an HTTP answer, for every route (the error
    /// middleware applies it to anything a handler throws).
    var httpResponse: Response {
        switch self {
        case .versionConflict(_, let expected, let actual):
            JSONResponses.error(
                .conflict, "version conflict: expected version \(expected), current version \(actual)",
                extra: [("expectedVersion", String(expected)), ("currentVersion", String(actual))])
        case .invalidEvent(let index, let problem):
            JSONResponses.error(.badRequest, "event \(index + 1): field \"\(problem.field)\": \(problem.problem)")
        case .idConflict(let id, _):
            JSONResponses.error(.conflict, description, extra: [("id", "\"\(id)\"")])
        case .emptyBatch:
            JSONResponses.error(.badRequest, description)
        case .closed:
            JSONResponses.error(.serviceUnavailable, "the journal is closing")
        case .sharedLog:
            JSONResponses.error(.serviceUnavailable, description)
        case .replica:
            JSONResponses.error(.conflict, description)
        case .storageFull:
            JSONResponses.error(
                HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), description,
                headers: [.retryAfter: String(StorageAlarm.retryAfterSeconds)])
        case .writeFailed, .writesStopped:
            // No Retry-After: the node writes again only once restarted; a balancer should take it
            // out (its /healthz says "stopped").
            JSONResponses.error(.serviceUnavailable, description)
        default:
            JSONResponses.error(.internalServerError, description)
        }
    }
}
