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

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("jobs/:id/events") { request, context in try await self.appendEvents(request, context) }
        router.get("jobs/:id") { _, context in try self.jobState(context) }
        router.get("jobs/:id/timeline") { _, context in try self.timeline(context) }
        router.get("jobs") { request, _ in self.jobs(request) }
        router.get("events") { request, _ in self.eventStream(request) }
        router.get("healthz") { _, _ in
            JSONResponses.response(.ok, JSONText.object([
                ("status", JSONText.quoted("ok")), ("lastSeq", String(self.logbook.currentProjections.coveredSeq)),
            ]))
        }
        router.get("metrics") { _, _ in
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
        let job = try context.parameters.require("id")
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
            events = try Routes.decodeEvents(bytes, job: job)
        } catch {
            return JSONResponses.error(.badRequest, error.message)
        }
        var items = events.map { AppendItem($0) }
        if let ifMatch = request.headers[.ifMatch] {
            let digits = String(ifMatch.filter { $0 != "\"" && $0 != " " }.replacing("W/", with: ""))
            guard let version = UInt64(digits) else {
                return JSONResponses.error(.badRequest, "If-Match: expected a version number, got \"\(ifMatch)\"")
            }
            items[0].expectedVersion = version
        }
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

    /// One event object or an array of them; `job` comes from the path.
    static func decodeEvents(_ bytes: [UInt8], job: String) throws(EventDecodingError) -> [Event] {
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        guard first == UInt8(ascii: "[") else { return [try Event(jsonLine: bytes, job: job)] }
        let elements: [[UInt8]]
        do {
            elements = try JSONScanner.arrayElements(of: bytes)
        } catch {
            throw EventDecodingError(error.description)
        }
        guard !elements.isEmpty else { throw EventDecodingError("the array holds no events") }
        var events: [Event] = []
        for (i, element) in elements.enumerated() {
            do {
                events.append(try Event(jsonLine: element, job: job))
            } catch {
                throw EventDecodingError("event \(i + 1): \(error.message)")
            }
        }
        return events
    }

    // MARK: GET /jobs/{id}, /jobs/{id}/timeline, /jobs

    func jobState(_ context: BasicRequestContext) throws -> Response {
        let job = try context.parameters.require("id")
        guard let state = logbook.state(of: job) else { return JSONResponses.error(.notFound, "no such job: \(job)") }
        return JSONResponses.response(.ok, state.json)
    }

    func timeline(_ context: BasicRequestContext) throws -> Response {
        let job = try context.parameters.require("id")
        let entries = try logbook.history(of: job)
        guard !entries.isEmpty else { return JSONResponses.error(.notFound, "no such job: \(job)") }
        return JSONResponses.response(.ok, "[" + entries.map(JSONResponses.timeline).joined(separator: ",") + "]")
    }

    func jobs(_ request: Request) -> Response {
        let params = request.uri.queryParameters
        var query = JobQuery()
        for value in params.getAll("status") {
            for name in value.split(separator: ",") {
                guard let status = JobStatus(name: String(name)) else {
                    return JSONResponses.error(.badRequest, "status: unknown status \"\(name)\"")
                }
                query.statuses.insert(status)
            }
        }
        func flag(_ name: String) -> Bool? {
            guard let v = params.get(name) else { return false }
            switch v {
            case "", "true", "1": return true
            case "false", "0": return false
            default: return nil
            }
        }
        guard let resumable = flag("resumable") else { return JSONResponses.error(.badRequest, "resumable: expected true or false") }
        guard let unfinalized = flag("unfinalized") else {
            return JSONResponses.error(.badRequest, "unfinalized: expected true or false")
        }
        query.resumable = resumable
        query.unfinalized = unfinalized
        query.node = params.get("node")
        for (name, keyPath) in [("silentFor", \JobQuery.silentFor), ("stalledFor", \JobQuery.stalledFor)] {
            guard let text = params.get(name) else { continue }
            guard let duration = Duration(logbookText: text) else {
                return JSONResponses.error(.badRequest, "\(name): not a duration: \"\(text)\" (examples: 90s, 30m, 1h)")
            }
            query[keyPath: keyPath] = duration.wholeMicroseconds
        }
        if let text = params.get("now") {
            guard let now = Timestamp(rfc3339: text) else {
                return JSONResponses.error(.badRequest, "now: not an RFC 3339 time: \"\(text)\"")
            }
            query.now = now
        } else {
            query.now = clock()
        }
        return JSONResponses.response(.ok, "[" + logbook.jobs(query).map(\.json).joined(separator: ",") + "]")
    }

    // MARK: GET /events?after=SEQ (Server-Sent Events)

    func eventStream(_ request: Request) -> Response {
        let params = request.uri.queryParameters
        // A reconnecting EventSource sends the last id it saw; `after` wins when both are given.
        let lastEventID: UInt64? = request.headers[.lastEventID].flatMap { UInt64($0) }
        let after: UInt64 = params.get("after").flatMap { UInt64($0) } ?? lastEventID ?? 0
        let limit = params.get("limit").flatMap(Int.init)
        let stream = logbook.follow(after: after)
        // A pump turns events into SSE frames; the response writes frames until the pump ends (a limit,
        // the logbook closing) or graceful shutdown finishes the frame stream, so shutdown never waits
        // on a follower.
        let (frames, frameSink) = AsyncStream<ByteBuffer>.makeStream()
        let pump = Task {
            var sent = 0
            do {
                for try await event in stream {
                    frameSink.yield(ByteBuffer(string: Routes.sseFrame(event)))
                    sent += 1
                    if let limit, sent >= limit { break }
                }
            } catch {}
            frameSink.finish()
        }
        // An SSE comment every 15 s keeps idle connections (and proxies in between) from timing out.
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                frameSink.yield(ByteBuffer(string: ": keepalive\n\n"))
            }
        }
        frameSink.onTermination = { _ in
            pump.cancel()
            keepalive.cancel()
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await withGracefulShutdownHandler {
                    for await frame in frames { try await writer.write(frame) }
                } onGracefulShutdown: {
                    frameSink.finish()
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
