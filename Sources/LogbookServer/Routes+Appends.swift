import HTTPTypes
import Hummingbird
import Lifecycle
import Logbook
import NIOCore

extension Routes {
    /// Set on the answer to a retry whose event ids were all stored already (the convention of
    /// Stripe's and the IETF draft's idempotency keys): the seqs are those of the first append.
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    func addAppends(to router: Router<BasicRequestContext>) {
        router.post("jobs/:id/events") { request, context in try await self.appendEvents(request, context) }
        router.post("events") { request, context in try await self.appendEvents(request, context) }
    }

    // MARK: POST /jobs/{id}/events

    func appendEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        // `/jobs/{id}/events` appends to one job; `/events` takes a batch whose events name their jobs.
        let job = context.parameters.get("id") != nil ? try Routes.job(context) : nil
        _ = try Routes.query(request, allowed: [])
        let expected = try HTTPInput.ifMatch(request.headers[values: .ifMatch])
        if job == nil, expected != nil {
            return JSONResponses.error(.badRequest, "header If-Match: POST /events spans jobs; guard one job's version on POST /jobs/{id}/events")
        }
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
            switch error {
            case .storageFull:
                metrics.recordStorageError(kind: "full")
                storage.refused(error, at: clock(), freeBytes: logbook.maintenance.freeBytes())
            case .writeFailed, .writesStopped:
                metrics.recordStorageError(kind: "device")
                storage.deviceFailed(error)
            default: break
            }
            return error.httpResponse
        }
        storage.stored(freeBytes: logbook.maintenance.freeBytes())
        metrics.recordAppend(ContinuousClock.now - started)
        // A retry whose ids were all stored: 200, not 201, and a header saying so (nothing new stored).
        let status: HTTPResponse.Status = outcome.replayed ? .ok : .created
        var response: Response
        if job != nil {
            response = AppendAnswer(seqs: outcome.seqs, states: [outcome.state], oneJob: true).response(status)
        } else {
            // Each job's state after the batch, in the order the jobs first appear in it.
            var seen = Set<ExactID>()
            let states = events.filter { seen.insert(ExactID($0.job)).inserted }.map { outcome.state(of: $0.job) }
            response = AppendAnswer(seqs: outcome.seqs, states: states, oneJob: false).response(status)
        }
        if outcome.replayed { response.headers[Routes.replayedHeader] = "true" }
        return response
    }

}
