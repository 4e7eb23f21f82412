import HTTPTypes
import Hummingbird
import Lifecycle
import Logbook
import NIOCore
import ServiceLifecycle

extension Routes {
    func addLiveStream(to router: Router<BasicRequestContext>) {
        router.get("events") { request, _ in try self.eventStream(request) }
    }

    // MARK: GET /events?after=SEQ&job=J (Server-Sent Events)

    func eventStream(_ request: Request) throws -> Response {
        var after: UInt64?
        var limit: Int?
        var jobs = Set<ExactID>()
        for (name, value) in try Routes.query(request, allowed: ["after", "limit", "job"], repeatable: ["job"]) {
            switch name {
            case "after": after = try HTTPInput.seq(value, what: "after")
            case "limit": limit = try HTTPInput.positive(value, what: "limit")
            default:
                guard !value.isEmpty else { throw BadRequest("job: must not be empty") }
                jobs.insert(ExactID(value))
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
                    // Only the named jobs' events (by their exact bytes), when `job` is given.
                    if !jobs.isEmpty, !jobs.contains(ExactID(event.event.job)) { continue }
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

    /// One Server-Sent Events frame. The JSON may hold line breaks (whitespace inside a stored `data`
    /// object, kept byte for byte), which would end the frame early: each line of it is its own
    /// `data:` line, which a client joins back with "\n" (the SSE rules), so it reads the same JSON.
    static func sseFrame(_ event: RecordedEvent) -> String {
        var json = JSONResponses.event(event)
        // Only `data` can hold a raw line break: every text the JSON writer quotes is escaped.
        if let data = event.event.data, data.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            json = json.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                .replacingOccurrences(of: "\n", with: "\ndata: ")
        }
        return "id: \(event.seq)\nevent: \(event.event.type.name)\ndata: \(json)\n\n"
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
