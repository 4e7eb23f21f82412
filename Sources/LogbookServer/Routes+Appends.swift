import HTTPTypes
import Hummingbird
import Logbook
import NIOCore

extension Routes {
    func addAppends(to router: Router<BasicRequestContext>) {
        router.post("jobs/:id/events") { request, context in try await self.appendEvents(request, context) }
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
            return error.httpResponse
        }
        metrics.recordAppend(ContinuousClock.now - started)
        return JSONResponses.response(.created, JSONText.object([
            ("seqs", "[" + outcome.seqs.map { String($0) }.joined(separator: ",") + "]"),
            ("state", outcome.state.json),
        ]))
    }

    /// The status and body for a refused append.
}
