import HTTPTypes
import Hummingbird
import Lifecycle
import Logbook
import NIOCore

extension Routes {
    func addQueries(to router: Router<BasicRequestContext>) {
        router.get("jobs/:id") { request, context in try self.jobState(request, context) }
        router.get("jobs/:id/timeline") { request, context in try self.timeline(request, context) }
        router.get("jobs") { request, _ in try self.jobs(request) }
    }

    // MARK: GET /jobs/{id}, /jobs/{id}/timeline, /jobs

    /// The job id of the path, percent-decoded (`/jobs/caf%C3%A9` is job `café`).
    static func job(_ context: BasicRequestContext) throws(BadRequest) -> String {
        guard let raw = context.parameters.get("id") else { throw BadRequest("the path names no job") }
        return try HTTPInput.percentDecoded(Substring(raw), what: "job id in the path")
    }

    /// The request's query parameters, checked against the endpoint's.
    static func query(
        _ request: Request, allowed: [String], repeatable: Set<String> = []
    ) throws(BadRequest) -> [(name: String, value: String)] {
        try HTTPInput.query(Substring(request.uri.query ?? ""), allowed: allowed, repeatable: repeatable)
    }

    func jobState(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let job = try Routes.job(context)
        _ = try Routes.query(request, allowed: [])
        guard let state = logbook.state(of: job) else { return JSONResponses.error(.notFound, "no such job: \(job)") }
        return JSONResponses.response(.ok, state.json)
    }

    /// Entries per page of `GET /jobs/{id}/timeline` unless `limit` says otherwise, and the most.
    static let timelinePage = 500
    static let timelinePageMost = 5_000

    func timeline(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let job = try Routes.job(context)
        var after: UInt64 = 0
        var limit = Routes.timelinePage
        for (name, value) in try Routes.query(request, allowed: ["after", "limit"]) {
            guard let n = UInt64(value) else { throw BadRequest("\(name): expected a whole number, got \"\(value)\"") }
            if name == "after" {
                after = n
            } else {
                guard (1...UInt64(Routes.timelinePageMost)).contains(n) else {
                    throw BadRequest("limit: must be between 1 and \(Routes.timelinePageMost), got \(n)")
                }
                limit = Int(n)
            }
        }
        let entries = try logbook.history(of: job)
        guard !entries.isEmpty else { return JSONResponses.error(.notFound, "no such job: \(job)") }
        // The fold runs over the whole history (it must); only the page is encoded.
        let start = entries.firstIndex { $0.event.seq > after } ?? entries.endIndex
        let page = entries[start..<min(start + limit, entries.endIndex)]
        let before = start > 0 ? entries[start - 1].stateAfter : JobState(job: job)
        let next = page.endIndex < entries.endIndex ? page.last.map { String($0.event.seq) } : nil
        return JSONResponses.response(.ok, JSONText.object([
            ("job", JSONText.quoted(job)),
            ("entries", "[" + Array(page).jsonEntries(startingFrom: before).joined(separator: ",") + "]"),
            ("next", next ?? "null"),
        ]))
    }

    static let jobsParameters = ["status", "resumable", "unfinalized", "node", "silentFor", "stalledFor", "now"]

    func jobs(_ request: Request) throws -> Response {
        let query = try Routes.jobQuery(Routes.query(request, allowed: Routes.jobsParameters, repeatable: ["status"]), now: clock())
        return JSONResponses.response(.ok, "[" + logbook.jobs(query).map(\.json).joined(separator: ",") + "]")
    }

    /// The projections' filters from query parameters (`GET /jobs` and the job list page); an empty
    /// value of a text filter is refused, except where `emptyMeansUnset` (an HTML form's blank field).
    static func jobQuery(
        _ parameters: [(name: String, value: String)], now: Timestamp, emptyMeansUnset: Bool = false
    ) throws(BadRequest) -> JobQuery {
        var query = JobQuery()
        query.now = now
        for (name, value) in parameters {
            if emptyMeansUnset, value.isEmpty { continue }
            switch name {
            case "status":
                for status in value.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let s = JobStatus(name: String(status)) else {
                        let known = JobStatus.allCases.map(\.name).joined(separator: ", ")
                        throw BadRequest("status: unknown status \"\(status)\" (known: \(known))")
                    }
                    query.statuses.insert(s)
                }
            case "resumable", "unfinalized":
                let flag: Bool
                switch value {
                case "", "true", "1": flag = true
                case "false", "0": flag = false
                default: throw BadRequest("\(name): expected true or false, got \"\(value)\"")
                }
                if name == "resumable" { query.resumable = flag } else { query.unfinalized = flag }
            case "node":
                guard !value.isEmpty else { throw BadRequest("node: must not be empty") }
                query.node = value
            case "silentFor", "stalledFor":
                guard let duration = Duration(logbookText: value) else {
                    throw BadRequest("\(name): not a duration: \"\(value)\" (examples: 90s, 30m, 1h)")
                }
                if name == "silentFor" { query.silentFor = duration.wholeMicroseconds } else {
                    query.stalledFor = duration.wholeMicroseconds
                }
            default:  // now
                guard let now = Timestamp(rfc3339: value) else {
                    throw BadRequest("now: not an RFC 3339 time: \"\(value)\"")
                }
                query.now = now
            }
        }
        return query
    }
}
