import AsyncHTTPClient
import Foundation
import HTTPTypes
import JobRunner
import Lifecycle
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// A `logbook serve` over HTTP, for a worker or a service in another process (docs/client.md). It
/// speaks the generated client (`Client`, from docs/openapi.yaml, which `client` exposes for
/// anything not wrapped here) and adds what a caller should not write by hand: event ids on every
/// append, so a retry after a timeout or a lost connection is stored once; the retries themselves;
/// the job states and events as Logbook's own values; the event stream, resumed where it broke; and
/// `run`, the embedded `Logbook.run`'s contract for a job kept by the service.
public struct RemoteLogbook: Sendable {
    /// The generated client, configured with this logbook's address, token and timeout.
    public let client: Client
    public let retry: RetryPolicy

    /// How appends are retried: on a timeout, a connection error, or 502, 503 and 504, with the
    /// same event ids (so never stored twice), backing off from `initialDelay` doubling to
    /// `maxDelay`, until `giveUpAfter` has passed since the first try.
    public struct RetryPolicy: Sendable {
        public var initialDelay: Duration = .milliseconds(50)
        public var maxDelay: Duration = .seconds(2)
        public var giveUpAfter: Duration = .seconds(30)
        public init() {}
        public init(initialDelay: Duration, maxDelay: Duration, giveUpAfter: Duration) {
            (self.initialDelay, self.maxDelay, self.giveUpAfter) = (initialDelay, maxDelay, giveUpAfter)
        }
    }

    /// `url` is the service's root (`http://host:8080`); `token` its bearer token (`serve
    /// --token-file`); `timeout` bounds each request (a stream of events is not bounded).
    public init(
        url: URL, token: String? = nil, timeout: Duration = .seconds(10), retry: RetryPolicy = RetryPolicy(),
        httpClient: HTTPClient = .shared
    ) {
        let seconds = timeout.components
        let transport = AsyncHTTPClientTransport(
            configuration: .init(client: httpClient, timeout: .nanoseconds(seconds.seconds * 1_000_000_000 + seconds.attoseconds / 1_000_000_000)))
        client = Client(
            serverURL: url, configuration: Configuration(dateTranscoder: .iso8601WithFractionalSeconds, jsonEncodingOptions: [.sortedKeys]),
            transport: transport,
            middlewares: token.map { [BearerToken(token: $0)] } ?? [])
        self.retry = retry
    }

    // MARK: Appends

    /// Appends a batch atomically, all or none (events of any jobs; with `expectedVersion`, all of
    /// one job, the first event guarded by it). Every event without an id gets one (time-ordered, a
    /// UUIDv7: the service's ids table then grows at its end), so the batch is
    /// retried safely (`RetryPolicy`) and a retry the service finds stored comes back `replayed`,
    /// with the seqs of the first append.
    public func append(_ events: [Event], expectedVersion: UInt64? = nil) async throws -> RemoteAppendOutcome {
        guard let first = events.first else { throw RemoteLogbookError.refused(status: 400, message: "an append needs at least one event") }
        var events = events
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1_000))
        for i in events.indices where events[i].id == nil { events[i].id = .timeOrdered(unixMilliseconds: now) }
        if expectedVersion != nil, let other = events.first(where: { $0.job != first.job }) {
            throw RemoteLogbookError.refused(
                status: 400, message: "an expected version guards one job's batch: \(first.job) and \(other.job) were given")
        }
        let body = try events.map(Wire.input)
        return try await retrying {
            if let expectedVersion {
                let output = try await client.appendEvents(
                    path: .init(id: first.job), headers: .init(ifMatch: String(expectedVersion)),
                    body: .json(.case2(body.map(\.withoutJob))))
                switch output {
                case .created(let created): return try RemoteAppendOutcome(try created.body.json, replayed: false)
                case .ok(let ok): return try RemoteAppendOutcome(try ok.body.json, replayed: true)
                case .conflict(let conflict): throw RemoteLogbookError(conflict: try conflict.body.json)
                case .badRequest(let r): throw RemoteLogbookError.refused(status: 400, message: try r.body.json.error)
                case .unauthorized(let r): throw RemoteLogbookError.refused(status: 401, message: try r.body.json.error)
                case .contentTooLarge(let r): throw RemoteLogbookError.refused(status: 413, message: try r.body.json.error)
                case .serviceUnavailable(let r): throw RemoteLogbookError.unavailable(status: 503, message: try r.body.json.error)
                case .code507(let r): throw RemoteLogbookError.unavailable(status: 507, message: try r.body.json.error)
                case .undocumented(let status, _): throw RemoteLogbookError.undocumented(status)
                }
            }
            let output = try await client.appendBatch(body: .json(.case2(body)))
            switch output {
            case .created(let created): return try RemoteAppendOutcome(try created.body.json, replayed: false)
            case .ok(let ok): return try RemoteAppendOutcome(try ok.body.json, replayed: true)
            case .conflict(let conflict): throw RemoteLogbookError(conflict: try conflict.body.json)
            case .badRequest(let r): throw RemoteLogbookError.refused(status: 400, message: try r.body.json.error)
            case .unauthorized(let r): throw RemoteLogbookError.refused(status: 401, message: try r.body.json.error)
            case .contentTooLarge(let r): throw RemoteLogbookError.refused(status: 413, message: try r.body.json.error)
            case .serviceUnavailable(let r): throw RemoteLogbookError.unavailable(status: 503, message: try r.body.json.error)
            case .code507(let r): throw RemoteLogbookError.unavailable(status: 507, message: try r.body.json.error)
            case .undocumented(let status, _): throw RemoteLogbookError.undocumented(status)
            }
        }
    }

    /// Appends one event (with an id, retried like a batch).
    public func append(_ event: Event, expectedVersion: UInt64? = nil) async throws -> RemoteAppendOutcome {
        try await append([event], expectedVersion: expectedVersion)
    }

    /// Runs `attempt` until it answers, retrying what may be retried with the same request.
    func retrying<R: Sendable>(_ attempt: () async throws -> R) async throws -> R {
        let clock = ContinuousClock()
        let deadline = clock.now + retry.giveUpAfter
        var delay = retry.initialDelay
        while true {
            do {
                return try await attempt()
            } catch let error as RemoteLogbookError where error.isRetryable {
                if clock.now + delay >= deadline { throw error }
            } catch let error as RemoteLogbookError {
                throw error
            } catch let error as CancellationError {
                throw error
            } catch {
                // A timeout, a refused or reset connection: the request may or may not have arrived.
                if Task.isCancelled || clock.now + delay >= deadline { throw RemoteLogbookError.unreachable("\(error)") }
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, retry.maxDelay)
        }
    }

    // MARK: Reads

    /// The job's state now; nil when the service has no event of it.
    public func state(of job: String) async throws -> JobState? {
        try await retrying {
            switch try await client.jobState(path: .init(id: job)) {
            case .ok(let ok): return try Wire.state(try ok.body.json)
            case .notFound: return nil
            case .badRequest(let r): throw RemoteLogbookError.refused(status: 400, message: try r.body.json.error)
            case .unauthorized(let r): throw RemoteLogbookError.refused(status: 401, message: try r.body.json.error)
            case .undocumented(let status, _): throw RemoteLogbookError.undocumented(status)
            }
        }
    }

    /// The jobs matching `query` (the service's projections: `GET /jobs`), sorted by job id.
    public func jobs(_ query: JobQuery = JobQuery()) async throws -> [JobState] {
        let input = Operations.Jobs.Input.Query(
            status: query.statuses.isEmpty ? nil : query.statuses.map(\.name).sorted().joined(separator: ","),
            resumable: query.resumable ? ._true : nil, unfinalized: query.unfinalized ? ._true : nil, node: query.node,
            silentFor: query.silentFor.map(Wire.duration), stalledFor: query.stalledFor.map(Wire.duration),
            now: query.now.map { Date(timeIntervalSince1970: Double($0.microseconds) / 1_000_000) })
        return try await retrying {
            switch try await client.jobs(query: input) {
            case .ok(let ok): return try ok.body.json.map(Wire.state)
            case .badRequest(let r): throw RemoteLogbookError.refused(status: 400, message: try r.body.json.error)
            case .unauthorized(let r): throw RemoteLogbookError.refused(status: 401, message: try r.body.json.error)
            case .undocumented(let status, _): throw RemoteLogbookError.undocumented(status)
            }
        }
    }

    /// Every event with a seq above `after` (of `job` only, when given), as the service stores them,
    /// live: the stream waits for new events and, when the connection breaks, reconnects with
    /// `Last-Event-ID` so nothing is skipped or repeated. It ends when the caller stops iterating;
    /// it throws only what a retry cannot cure (a refused token, a bad parameter).
    public func follow(after: UInt64 = 0, job: String? = nil) -> AsyncThrowingStream<RecordedEvent, any Error> {
        let client = client
        let retry = retry
        return AsyncThrowingStream { continuation in
            let task = Task {
                var last = after
                var delay = retry.initialDelay
                while !Task.isCancelled {
                    do {
                        let output = try await client.events(
                            query: .init(after: Int(clamping: last), job: job), headers: .init(lastEventID: String(last)))
                        switch output {
                        case .ok(let ok):
                            let frames = try ok.body.textEventStream.asDecodedServerSentEventsWithJSONData(of: Components.Schemas.StoredEvent.self)
                            for try await frame in frames {
                                guard let stored = frame.data else { continue }
                                let event = try Wire.recorded(stored)
                                last = event.seq
                                delay = retry.initialDelay
                                continuation.yield(event)
                            }
                        case .badRequest(let r):
                            throw RemoteLogbookError.refused(status: 400, message: try r.body.json.error)
                        case .unauthorized(let r):
                            throw RemoteLogbookError.refused(status: 401, message: try r.body.json.error)
                        case .undocumented(let status, _) where status < 500:
                            throw RemoteLogbookError.undocumented(status)
                        case .undocumented:
                            break
                        }
                    } catch let error as RemoteLogbookError where !error.isRetryable {
                        continuation.finish(throwing: error)
                        return
                    } catch let error as DecodingError {
                        // The same frame would fail again: say so rather than reconnect for ever.
                        continuation.finish(throwing: RemoteLogbookError.unreadable("an event of the stream after seq \(last): \(error)"))
                        return
                    } catch {
                        if Task.isCancelled { break }
                    }
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, retry.maxDelay)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Running a job

    /// Runs one attempt of `job` on `node` with the embedded `Logbook.run`'s contract (the same run
    /// loop, `AttemptRun`): starts it under the version read (`started` or `resumed`), heartbeats
    /// every `heartbeatEvery` while `body` runs, cancels `body`'s task when an answer or the job's
    /// event stream shows it decided, interrupted or taken over by another attempt, and records
    /// `completed` or `failed` (or `interrupted` when the caller's task is cancelled). Every append
    /// carries an id and is retried like any other, so a retry across a restart of the service is
    /// stored once. Returns the job's state after the run.
    public func run<C: Clock>(
        job: String, node: String, heartbeatEvery: Duration, clock: C = ContinuousClock(),
        _ body: @escaping @Sendable (RunningJob) async throws -> Void
    ) async throws -> JobState where C.Duration == Duration {
        try await AttemptRun.run(on: RemoteHost(remote: self), job: job, node: node, heartbeatEvery: heartbeatEvery, clock: clock, body)
    }
}

/// What an append over HTTP answered.
public struct RemoteAppendOutcome: Sendable, Hashable {
    /// The seqs of the batch's events (those of the first append when `replayed`).
    public var seqs: [UInt64]
    /// Each job's state right after the batch (now, when `replayed`), in the order the jobs first
    /// appear in it.
    public var states: [JobState]
    /// The service had every event's id already: nothing was stored now.
    public var replayed: Bool

    /// The state of the batch's last job.
    public var state: JobState { states.last ?? JobState(job: "") }

    init(_ answer: Components.Schemas.AppendAnswer, replayed: Bool) throws {
        (seqs, states, self.replayed) = (answer.seqs.map { UInt64($0) }, [try Wire.state(answer.state)], replayed)
    }

    init(_ answer: Components.Schemas.BatchAnswer, replayed: Bool) throws {
        (seqs, states, self.replayed) = (answer.seqs.map { UInt64($0) }, try answer.states.map(Wire.state), replayed)
    }
}

/// Why a request to the service failed.
public enum RemoteLogbookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The expected version did not hold; nothing was stored.
    case versionConflict(expected: UInt64, current: UInt64, message: String)
    /// An event id the service holds for another event, or a batch mixing stored and new ids.
    case idConflict(id: String, message: String)
    /// The service refused the request (a bad event, a missing token, too large); nothing was stored.
    case refused(status: Int, message: String)
    /// The service could not store it for now (503, 507), after the retries.
    case unavailable(status: Int, message: String)
    /// No answer (a timeout, a refused or reset connection), after the retries: the events may or
    /// may not be stored; a later `append` of the same events (same ids) settles it.
    case unreachable(String)
    /// A status the API does not document.
    case undocumented(Int)
    /// An answer this client could not read.
    case unreadable(String)

    /// Whether the same request may be sent again (it carries the same ids).
    var isRetryable: Bool {
        switch self {
        case .unavailable(let status, _): status == 503 || status == 507
        case .undocumented(let status): status == 502 || status == 503 || status == 504
        case .unreachable: true
        default: false
        }
    }

    init(conflict: Components.Responses.Conflict.Body.JsonPayload) {
        if let id = conflict.id {
            self = .idConflict(id: id, message: conflict.error)
        } else {
            self = .versionConflict(
                expected: UInt64(conflict.expectedVersion ?? 0), current: UInt64(conflict.currentVersion ?? 0), message: conflict.error)
        }
    }

    public var description: String {
        switch self {
        case .versionConflict(_, _, let message), .idConflict(_, let message): message
        case .refused(let status, let message): "refused (\(status)): \(message)"
        case .unavailable(let status, let message): "unavailable (\(status)): \(message)"
        case .unreachable(let why): "no answer from the service: \(why); the events may be stored: append them again (same ids) to know"
        case .undocumented(let status): "the service answered an undocumented status \(status)"
        case .unreadable(let why): "unreadable answer: \(why)"
        }
    }
}

/// Adds `Authorization: Bearer <token>` to every request.
struct BearerToken: ClientMiddleware {
    let token: String
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}
