import HTTPTypes
import Hummingbird
import Logbook
import NIOCore
import ServiceLifecycle

/// The HTTP API (docs/service.md). Every handler answers JSON; errors are `{"error": "..."}`.
public struct Routes: Sendable {
    let logbook: Logbook
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let clock: @Sendable () -> Timestamp

    public init(
        logbook: Logbook, configuration: ServerConfiguration, metrics: ServerMetrics,
        clock: @escaping @Sendable () -> Timestamp = Journal.systemClock
    ) {
        self.logbook = logbook
        self.configuration = configuration
        self.metrics = metrics
        self.clock = clock
    }

    /// The endpoints, for 405's `Allow` and for the OpenAPI test. Path segments starting with `:` are parameters.
    static let table: [(method: HTTPRequest.Method, path: String)] = [
        (.post, "jobs/:id/events"), (.get, "jobs/:id"), (.get, "jobs/:id/timeline"), (.get, "jobs"), (.get, "events"),
        (.get, "healthz"), (.get, "metrics"), (.get, "openapi.yaml"), (.get, "ui"), (.get, "ui/jobs/:id"),
        (.get, "ui/logbook.css"),
    ]

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        // First, so nothing (not even whether a route exists) is answered without the token.
        if let token = configuration.bearerToken { router.add(middleware: BearerAuthMiddleware(token: Array(token.utf8))) }
        // Then around every route and the not-found responder: refusals become JSON answers.
        router.add(middleware: APIErrorMiddleware(table: Routes.table))
        router.post("jobs/:id/events") { request, context in try await self.appendEvents(request, context) }
        router.get("jobs/:id") { request, context in try self.jobState(request, context) }
        router.get("jobs/:id/timeline") { request, context in try self.timeline(request, context) }
        router.get("jobs") { request, _ in try self.jobs(request) }
        router.get("events") { request, _ in try self.eventStream(request) }
        router.get("healthz") { request, _ in
            _ = try Routes.query(request, allowed: [])
            return JSONResponses.response(.ok, JSONText.object([
                ("status", JSONText.quoted("ok")), ("lastSeq", String(self.logbook.currentProjections.coveredSeq)),
            ]))
        }
        router.get("openapi.yaml") { request, _ in
            _ = try Routes.query(request, allowed: [])
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml + "\n")))
        }
        let pages = Pages(logbook: logbook, clock: clock)
        router.get("ui") { request, _ in try pages.list(request) }
        router.get("ui/jobs/:id") { request, context in try pages.job(request, context) }
        router.get("ui/logbook.css") { request, _ in
            _ = try Routes.query(request, allowed: [])
            return pages.stylesheet()
        }
        router.get("metrics") { request, _ in
            _ = try Routes.query(request, allowed: [])
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: self.metrics.render(self.logbook))))
        }
        return router
    }

    // MARK: POST /jobs/{id}/events

    func appendEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let job = try Routes.job(context)
        _ = try Routes.query(request, allowed: [])
        let expected = try HTTPInput.ifMatch(request.headers[values: .ifMatch])
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return JSONResponses.error(.contentTooLarge, "request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        let bytes = Array(body.readableBytesView)
        let events: [Event]
        do {
            events = try Event.decodeBody(bytes, job: job)
        } catch {
            return JSONResponses.error(.badRequest, error.message)
        }
        var items = events.map { AppendItem($0) }
        items[0].expectedVersion = expected
        let outcome: AppendOutcome
        do {
            outcome = try await logbook.append(items)
        } catch {
            return Routes.response(for: error)
        }
        metrics.recordAppend(ContinuousClock.now - started)
        return JSONResponses.response(.created, JSONText.object([
            ("seqs", "[" + outcome.seqs.map { String($0) }.joined(separator: ",") + "]"),
            ("state", outcome.state.json),
        ]))
    }

    /// The status and body for a refused append.
    static func response(for error: JournalError) -> Response {
        switch error {
        case .versionConflict(_, let expected, let actual):
            JSONResponses.error(
                .conflict, "version conflict: expected version \(expected), current version \(actual)",
                extra: [("expectedVersion", String(expected)), ("currentVersion", String(actual))])
        case .invalidEvent(let index, let problem):
            JSONResponses.error(.badRequest, "event \(index + 1): field \"\(problem.field)\": \(problem.problem)")
        case .closed:
            JSONResponses.error(.serviceUnavailable, "the journal is closing")
        default:
            JSONResponses.error(.internalServerError, error.description)
        }
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

    // MARK: GET /events?after=SEQ (Server-Sent Events)

    func eventStream(_ request: Request) throws -> Response {
        var after: UInt64?
        var limit: Int?
        for (name, value) in try Routes.query(request, allowed: ["after", "limit"]) {
            if name == "after" { after = try HTTPInput.seq(value, what: "after") } else {
                limit = try HTTPInput.positive(value, what: "limit")
            }
        }
        // A reconnecting EventSource sends the last id it saw; `after` wins when both are given.
        let lastEventIDs = request.headers[values: .lastEventID]
        if lastEventIDs.count > 1 { throw BadRequest("Last-Event-ID: give it once, not \(lastEventIDs.count) times") }
        let lastEventID = try lastEventIDs.first.map { try HTTPInput.seq($0, what: "Last-Event-ID") }
        let stream = logbook.follow(after: after ?? lastEventID ?? 0)
        // A pump turns events into SSE frames; the response writes frames until the pump ends (a limit,
        // the logbook closing) or graceful shutdown closes the queue, so shutdown never waits on a
        // follower. The frames waiting for a client are bounded: one that falls further behind is
        // disconnected (what waits is dropped and its stream ends; it resumes with Last-Event-ID), so a
        // stalled client holds at most `maxFollowerLag` frames while it lags, and one frame after.
        let frames = FrameQueue(capacity: configuration.maxFollowerLag)
        let metrics = self.metrics
        let pump = Task {
            var sent = 0
            do {
                for try await event in stream {
                    guard frames.push(ByteBuffer(string: Routes.sseFrame(event))) else {
                        metrics.recordSlowFollowerDisconnected()
                        frames.close(discarding: true)
                        return
                    }
                    sent += 1
                    if let limit, sent >= limit { break }
                }
            } catch {}
            frames.close(discarding: false)
        }
        // An SSE comment every 15 s keeps idle connections (and proxies in between) from timing out.
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                _ = frames.push(ByteBuffer(string: ": keepalive\n\n"))
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer {
                    pump.cancel()
                    keepalive.cancel()
                }
                try await withGracefulShutdownHandler {
                    while let frame = await frames.next() { try await writer.write(frame) }
                } onGracefulShutdown: {
                    frames.close(discarding: true)
                }
                try await writer.finish(nil)
            })
    }

    static func sseFrame(_ event: RecordedEvent) -> String {
        "id: \(event.seq)\nevent: \(event.event.type.name)\ndata: \(JSONResponses.event(event))\n\n"
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
