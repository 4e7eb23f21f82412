import HTTPTypes
import Hummingbird

/// `serve --token-file`: every endpoint but `/healthz` needs `Authorization: Bearer <token>`.
/// A missing or wrong token gets 401 with `WWW-Authenticate: Bearer` (RFC 6750); the token is
/// compared in constant time, so response timing says nothing about how much of a guess was right.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let headers = request.headers[values: .authorization]
        guard headers.count == 1, let given = BearerAuthMiddleware.credentials(headers[0]) else {
            return BearerAuthMiddleware.challenge("this endpoint needs Authorization: Bearer <token>", error: nil)
        }
        guard BearerAuthMiddleware.constantTimeEqual(Array(given.utf8), token) else {
            return BearerAuthMiddleware.challenge("the bearer token is not valid", error: "invalid_token")
        }
        return try await next(request, context)
    }

    /// The token of a `Bearer` credential (the scheme is case-insensitive), or nil.
    static func credentials(_ header: String) -> Substring? {
        let parts = header.trimmingSpaces.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop { $0 == " " }
        return token.isEmpty ? nil : token
    }

    /// Equal bytes, in time that depends only on the lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0 && a.count == b.count
    }

    static func challenge(_ message: String, error: String?) -> Response {
        var response = JSONResponses.error(.unauthorized, message)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"logbook\"" + (error.map { ", error=\"\($0)\"" } ?? "")
        return response
    }
}
