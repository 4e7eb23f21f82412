import HTTPTypes
import Hummingbird
import Logbook

/// Turns every refusal into the API's JSON error: a `BadRequest` from parsing is a 400 naming the
/// parameter; a `JournalError` is answered by its one mapping (`JournalError.httpResponse`); a path no route serves is a JSON 404; a known path with the wrong method is a 405
/// with `Allow`. Registered first, so it also wraps the router's not-found responder.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let table: [(method: HTTPRequest.Method, path: String)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as BadRequest {
            return JSONResponses.error(.badRequest, error.message)
        } catch let error as JournalError {
            return error.httpResponse
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            let allowed = methods(for: path)
            guard allowed.isEmpty else {
                var response = JSONResponses.error(
                    .methodNotAllowed, "\(request.method) is not allowed on \(path); allowed: \(allowed.joined(separator: ", "))")
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            return JSONResponses.error(.notFound, "no such endpoint: \(request.method) \(path)")
        } catch let error as HTTPError {
            return JSONResponses.error(error.status, error.body ?? error.status.reasonPhrase)
        }
    }

    /// The methods some route serves at `path`, in table order.
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var result: [String] = []
        for route in table {
            let pattern = route.path.split(separator: "/")
            guard pattern.count == segments.count else { continue }
            let matches = zip(pattern, segments).allSatisfy { p, s in p.hasPrefix(":") || p == s }
            if matches, !result.contains(route.method.rawValue) { result.append(route.method.rawValue) }
        }
        return result
    }
}
