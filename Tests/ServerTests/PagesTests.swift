import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logbook
@testable import LogbookServer
import NIOCore
import TestSupport
import Testing

/// The web pages: `/ui/` (the job list) and `/ui/jobs/{id}` (a job's page).
@Suite struct PagesTests {
    static let now = Timestamp(seconds: 1_780_365_600)  // 2026-06-02T02:00:00Z
    static func at(_ seconds: Int64) -> Timestamp { Timestamp(seconds: 1_780_272_000 + seconds) }  // from 2026-06-01T00:00:00Z
    static let evil = "<img src=x onerror=alert(1)>"

    func withPages(token: String? = nil, _ body: @Sendable (any TestClientProtocol, Logbook) async throws -> Void) async throws {
        let dir = TemporaryDirectory("pages")
        defer { dir.cleanup() }
        var options = Logbook.Options()
        options.durability = .noSync
        let logbook = try Logbook.open(at: dir.file("p.journal"), options: options)
        defer { logbook.close() }
        _ = try await logbook.append([
            Event(job: "scan-3", type: .started, at: Self.at(0), node: "osiris", attempt: 1),
            Event(job: "scan-3", type: .cancelled, at: Self.at(60), reason: "cancelled by user"),
            Event(job: "scan-3", type: .interrupted, at: Self.at(120), reason: "shutdown", attempt: 1),
            Event(job: "crawl", type: .started, at: Self.at(0), node: "vps", attempt: 1),
            Event(job: "crawl", type: .heartbeat, at: Self.at(7200), attempt: 1),
            Event(job: Self.evil, type: .started, at: Self.at(0), node: #""><script>alert(2)</script>"#, attempt: 1),
        ])
        var config = ServerConfiguration()
        config.bearerToken = token
        try await buildApplication(configuration: config, logbook: logbook, clock: { Self.now }).test(.router) { client in
            try await body(client, logbook)
        }
    }

    func get(_ client: any TestClientProtocol, _ uri: String, token: String? = nil) async throws -> (HTTPResponse, String) {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: uri, method: .get, headers: headers) { ($0.head, String(buffer: $0.body)) }
    }

    @Test func theJobListCountsEveryStatusLinksEveryJobAndSaysHowLongEachIsSilent() async throws {
        try await withPages { client, _ in
            let (head, page) = try await get(client, "/ui/")
            #expect(head.status == .ok && head.headerFields[.contentType] == "text/html; charset=utf-8")
            #expect(head.headerFields[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
            #expect(page.contains(#"<span class="n">2</span> running</a>"#) && page.contains(#"<span class="n">1</span> cancelled</a>"#))
            #expect(page.contains(#"<a href="jobs/scan-3">scan-3</a>"#))
            #expect(page.contains("last sign of life 24h ago"))  // crawl's heartbeat at 02:00 the day before
            #expect(page.contains("3 matching."))
        }
    }

    @Test func theFiltersAreTheProjections() async throws {
        try await withPages { client, _ in
            let (_, cancelled) = try await get(client, "/ui/?status=cancelled&node=&silentFor=&stalledFor=")
            #expect(cancelled.contains("1 matching.") && cancelled.contains("jobs/scan-3") && !cancelled.contains("jobs/crawl"))
            #expect(cancelled.contains(#"<option value="cancelled" selected>"#))
            let (_, silent) = try await get(client, "/ui/?silentFor=25h")
            #expect(silent.contains("1 matching.") && !silent.contains("jobs/crawl"))  // crawl spoke 24h ago
            let (_, unfinalized) = try await get(client, "/ui/?unfinalized=true")
            #expect(unfinalized.contains("jobs/scan-3") && unfinalized.contains(#"name="unfinalized" value="true" checked"#))
            let (head, bad) = try await get(client, "/ui/?silentFor=soon")
            #expect(head.status == .badRequest && bad.contains("silentFor: not a duration: &quot;soon&quot;"))
            let (unknown, _) = try await get(client, "/ui/?colour=red")
            #expect(unknown.status == .badRequest)
        }
    }

    @Test func aJobPageShowsTheVerdictTheTimelineAndEveryIgnoredEventWithItsReason() async throws {
        try await withPages { client, logbook in
            let (head, page) = try await get(client, "/ui/jobs/scan-3")
            #expect(head.status == .ok)
            #expect(page.contains("<dd>seq 2: cancelled by user</dd>"))
            let state = try #require(logbook.state(of: "scan-3"))
            #expect(page.contains("<dd>3, \(state.anomalyCount) ignored by the fold</dd>"))
            #expect(page.matches(of: /<tr class="ignored"/).count == state.anomalyCount)
            #expect(page.contains(#"id="seq-3""#) && page.contains(##"href="#seq-3""##))
            #expect(page.contains("IGNORED: interrupted after cancelled at seq 2: ignored"))
            #expect(page.contains(#"<link rel="stylesheet" href="../logbook.css">"#))
        }
    }

    @Test func timeTravelScrubsThroughTheJobsEvents() async throws {
        try await withPages { client, _ in
            let (_, first) = try await get(client, "/ui/jobs/scan-3?until=1")
            #expect(first.contains("as of seq 1") && first.contains(#"<span class="status st-running">running</span>"#))
            #expect(first.contains(#"href="?until=2""#) && !first.contains("◀"))
            let (_, atTime) = try await get(client, "/ui/jobs/scan-3?at=2026-06-01T00:01:30Z")
            #expect(atTime.contains(#"<span class="status st-cancelled">cancelled</span>"#) && !atTime.contains("id=\"seq-3\""))
            // Both: the events up to that seq that happened by that time (here the seq is the tighter).
            let (both, bothPage) = try await get(client, "/ui/jobs/scan-3?at=2026-06-01T00:01:30Z&until=1")
            #expect(both.status == .ok && bothPage.contains("as of seq 1") && bothPage.contains(#"<span class="status st-running">running</span>"#))
            let (missing, text) = try await get(client, "/ui/jobs/nope")
            #expect(missing.status == .notFound && text.contains("no such job: nope"))
        }
    }

    @Test func aHostileJobIdIsTextOnBothPages() async throws {
        try await withPages { client, _ in
            let (_, list) = try await get(client, "/ui/")
            #expect(!list.contains(Self.evil) && list.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(list.contains(#"href="jobs/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E""#))
            let (head, page) = try await get(client, "/ui/jobs/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E")
            #expect(head.status == .ok)
            #expect(!page.contains(Self.evil) && !page.contains("<script>alert(2)") && page.contains("&lt;script&gt;alert(2)"))
        }
    }

    @Test func thePagesNeedTheTokenLikeTheAPI() async throws {
        try await withPages(token: "s3cret") { client, _ in
            let (list, _) = try await get(client, "/ui/")
            let (job, _) = try await get(client, "/ui/jobs/scan-3")
            let (allowed, _) = try await get(client, "/ui/", token: "s3cret")
            #expect(list.status == .unauthorized && job.status == .unauthorized)
            #expect(allowed.status == .ok)
        }
    }

    @Test func uiWithoutTheSlashRedirectsAndTheStylesheetIsServed() async throws {
        try await withPages { client, _ in
            let (head, _) = try await get(client, "/ui?status=running")
            #expect(head.status == .permanentRedirect && head.headerFields[.location] == "/ui/?status=running")
            let (css, text) = try await get(client, "/ui/logbook.css")
            #expect(css.status == .ok && css.headerFields[.contentType] == "text/css; charset=utf-8" && text.contains(".mk.ignored"))
        }
    }
}
