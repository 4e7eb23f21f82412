import Foundation
import Hummingbird
import HummingbirdTesting
import Lifecycle
import Logbook
import NIOCore
@testable import LogbookServer
import Testing

/// The hardening issue's service edges: no request crashes the service, ties it up, or is misread.
extension ServerTests {
    func request(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:],
        body: String = ""
    ) async throws -> (HTTPResponse.Status, HTTPFields, String) {
        try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body)) {
            ($0.status, $0.headers, String(buffer: $0.body))
        }
    }

    @Test func anAfterOrLastEventIDAtTheTopOfTheRangeEndsTheStreamInsteadOfCrashing() async throws {
        try await withServer { client, logbook in
            _ = try await logbook.append(Event(job: "j", type: .created))
            let (status, _, body) = try await request(client, .get, "/events?after=18446744073709551615")
            #expect(status == .ok)
            #expect(body.isEmpty)
            var headers = HTTPFields()
            headers[.lastEventID] = "18446744073709551615"
            let (resumed, _, resumedBody) = try await request(client, .get, "/events", headers: headers)
            #expect(resumed == .ok && resumedBody.isEmpty)
        }
    }

    @Test(arguments: [
        ("/events?after=abc", "after: expected a seq"), ("/events?after=-1", "after: expected a seq"),
        ("/events?after=18446744073709551616", "after: expected a seq"), ("/events?limit=0", "limit: expected a whole number >= 1"),
        ("/events?after=1&after=2", "after: given more than once"),
        ("/jobs?silent_for=5m", #"unknown query parameter \"silent_for\""#), ("/jobs?silentFor=5", "silentFor: not a duration"),
        ("/jobs?status=runing", #"status: unknown status \"runing\""#), ("/jobs?now=yesterday", "now: not an RFC 3339 time"),
        ("/jobs?resumable=maybe", "resumable: expected true or false"), ("/jobs/j?verbose=1", #"unknown query parameter \"verbose\""#),
        ("/healthz?x=1", "this endpoint takes none"), ("/jobs/caf%ZZ", "job id in the path: \\\"%\\\" must be followed by two hex digits"),
        ("/jobs/%FF", "not UTF-8"),
    ])
    func badParametersAre400NamingTheParameter(uri: String, message: String) async throws {
        try await withServer { client, _ in
            let (status, _, body) = try await request(client, .get, uri)
            #expect(status == .badRequest, "\(uri)")
            #expect(body.contains(message), "\(uri): \(body)")
        }
    }

    @Test func aBadLastEventIDIs400NamingTheHeader() async throws {
        try await withServer { client, _ in
            var headers = HTTPFields()
            headers[.lastEventID] = "x"
            let (status, _, body) = try await request(client, .get, "/events", headers: headers)
            #expect(status == .badRequest)
            #expect(body.contains("Last-Event-ID: expected a seq"))
        }
    }

    @Test func hugeDurationsAnswerInsteadOfOverflowing() async throws {
        try await withServer { client, logbook in
            _ = try await logbook.append(Event(job: "j", type: .started, at: Timestamp(seconds: 0)))
            let (status, _, body) = try await request(client, .get, "/jobs?silentFor=106751991d&now=2026-06-01T00:00:00Z")
            #expect(status == .ok)
            #expect(body == "[]\n")
            #expect(JobQuery(silentFor: .min, now: Timestamp(microseconds: .max)).matches(logbook.state(of: "j")!))
            #expect(logbook.jobs(JobQuery(stalledFor: .min, now: Timestamp(microseconds: .min))).count == 1)
        }
    }

    @Test func jobIDsInThePathArePercentDecoded() async throws {
        try await withServer { client, logbook in
            let (created, _, _) = try await request(client, .post, "/jobs/caf%C3%A9/events", body: #"{"type":"created"}"#)
            #expect(created == .created)
            #expect(logbook.state(of: "caf\u{E9}") != nil)
            #expect(logbook.jobs().count == 1)
            _ = try await request(client, .post, "/jobs/a%20b/events", body: #"{"type":"created"}"#)
            #expect(logbook.state(of: "a b") != nil)
            let (status, _, body) = try await request(client, .get, "/jobs/caf%C3%A9")
            #expect(status == .ok && body.contains(#""job":"café""#))
            // NFD is another job: not found, not the NFC one.
            #expect(try await request(client, .get, "/jobs/cafe%CC%81").0 == .notFound)
        }
    }

    @Test(arguments: [("3", true), ("\"3\"", true), (" 3 ", true), ("4 5", false), ("W/\"3\"", false), ("*", false),
                      ("\"3\", \"4\"", false), ("\"3", false), ("", false), ("-1", false)])
    func ifMatchTakesExactlyOneVersion(header: String, accepted: Bool) async throws {
        try await withServer { client, logbook in
            _ = try await logbook.append([Event(job: "j", type: .created), Event(job: "j", type: .started), Event(job: "j", type: .heartbeat)])
            var headers = HTTPFields()
            headers[.ifMatch] = header
            let (status, _, body) = try await request(client, .post, "/jobs/j/events", headers: headers, body: #"{"type":"heartbeat"}"#)
            if accepted {
                #expect(status == .created, "\(header): \(body)")
            } else {
                #expect(status == .badRequest, "\(header): \(body)")
                #expect(body.contains("If-Match"), "\(header): \(body)")
                #expect(try logbook.maintenance.lastSeq() == 3, "nothing stored")
            }
        }
    }

    @Test func unknownRoutesAreJSON404AndWrongMethodsAre405WithAllow() async throws {
        try await withServer { client, _ in
            let (notFound, _, body) = try await request(client, .get, "/nope")
            #expect(notFound == .notFound)
            #expect(body.hasPrefix(#"{"error":"no such endpoint: GET /nope"#))
            let (deleteJob, headers, deleteBody) = try await request(client, .delete, "/jobs/x")
            #expect(deleteJob == .methodNotAllowed)
            #expect(headers[.allow] == "GET")
            #expect(deleteBody.hasPrefix(#"{"error":"#))
            let (putEvents, putHeaders, _) = try await request(client, .put, "/jobs/x/events", body: "{}")
            #expect(putEvents == .methodNotAllowed)
            #expect(putHeaders[.allow] == "POST")
        }
    }

    @Test func aBodyOfManyDistinctKeysIsRefusedAfterOneLinearPass() async throws {
        try await withServer { client, logbook in
            // 90,000 distinct keys fit in the 1 MiB limit; the old quadratic check took minutes here.
            let members = (0..<90_000).map { #""k\#($0)":0"# }.joined(separator: ",")
            let (status, _, body) = try await request(client, .post, "/jobs/j/events", body: "{" + members + "}")
            #expect(status == .badRequest)
            #expect(body.contains("unknown field"))
            #expect(try logbook.maintenance.lastSeq() == 0)
        }
    }

    @Test func duplicateKeysAreComparedByTheirBytes() throws {
        #expect(throws: JSONScanner.Failure.self) { try JSONScanner.members(of: Array(#"{"a":1,"a":2}"#.utf8)) }
        let nfcAndNFD = try JSONScanner.members(of: Array("{\"caf\u{E9}\":1,\"cafe\u{301}\":2}".utf8))
        #expect(nfcAndNFD.count == 2)
    }

    @Test func withATokenEveryEndpointButHealthzNeedsItAndGets401WithAChallenge() async throws {
        try await withServer(token: "s3cret-token") { client, logbook in
            #expect(try await request(client, .get, "/healthz").0 == .ok)
            for (uri, method) in [("/jobs", HTTPRequest.Method.get), ("/jobs/j/events", .post), ("/metrics", .get), ("/nope", .get)] {
                let (status, headers, body) = try await request(client, method, uri, body: #"{"type":"created"}"#)
                #expect(status == .unauthorized, "\(uri)")
                #expect(headers[.wwwAuthenticate] == #"Bearer realm="logbook""#, "\(uri)")
                #expect(body.hasPrefix(#"{"error":"#), "\(uri)")
            }
            for wrong in ["Bearer s3cret-toke", "Bearer s3cret-token2", "Basic czNjcmV0LXRva2Vu", "Bearer", "s3cret-token"] {
                var headers = HTTPFields()
                headers[.authorization] = wrong
                let (status, answer, _) = try await request(client, .post, "/jobs/j/events", headers: headers, body: #"{"type":"created"}"#)
                #expect(status == .unauthorized, "\(wrong)")
                #expect(answer[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(wrong)")
            }
            #expect(try logbook.maintenance.lastSeq() == 0, "nothing stored without the token")
            var headers = HTTPFields()
            headers[.authorization] = "bearer s3cret-token"
            #expect(try await request(client, .post, "/jobs/j/events", headers: headers, body: #"{"type":"created"}"#).0 == .created)
        }
    }

    @Test func tokensAreComparedWhole() {
        #expect(BearerAuthMiddleware.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!BearerAuthMiddleware.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!BearerAuthMiddleware.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!BearerAuthMiddleware.constantTimeEqual([], Array("a".utf8)))
    }

    @Test func aFollowersFrameQueueIsBoundedAndDropsWhatWaitsWhenItsClientIsCut() async {
        let queue = FrameQueue(capacity: 3)
        for i in 0..<3 { #expect(queue.push(ByteBuffer(string: "\(i)"))) }
        #expect(!queue.push(ByteBuffer(string: "too far behind")), "a full queue refuses: the client is disconnected")
        #expect(await queue.next().map { String(buffer: $0) } == "0")
        queue.close(discarding: true)
        #expect(await queue.next() == nil, "what waited is dropped, not kept for a stalled client")
        let draining = FrameQueue(capacity: 2)
        _ = draining.push(ByteBuffer(string: "a"))
        draining.close(discarding: false)
        #expect(await draining.next().map { String(buffer: $0) } == "a")
        #expect(await draining.next() == nil)
    }
}
