import HTTPTypes
import Hummingbird
import JobTimeline
import Logbook
import Mustache
import NIOCore

/// The service's web pages: the job list (`GET /ui/`) and a job's page (`GET /ui/jobs/{id}`), the
/// same layout and escaping as `logbook timeline --html`, behind the same auth as the API. No script;
/// the one stylesheet is served here (`/ui/logbook.css`). Every text from the journal goes through
/// a Mustache `{{…}}`; the one unescaped insertion is the job page's timeline, which `HTMLTimeline`
/// renders with the same escaping.
struct Pages: Sendable {
    let logbook: Logbook
    let clock: @Sendable () -> Timestamp

    /// At most this many jobs are listed on one page (the counts cover them all).
    static let listLimit = 500
    static let listParameters = ["status", "resumable", "unfinalized", "node", "silentFor", "stalledFor"]

    func add(to router: Router<BasicRequestContext>) {
        router.get("ui") { request, _ in try self.list(request) }
        router.get("ui/jobs/:id") { request, context in try self.job(request, context) }
        router.get("ui/logbook.css") { request, _ in
            _ = try Routes.query(request, allowed: [])
            return self.stylesheet()
        }
    }

    // MARK: GET /ui/

    func list(_ request: Request) throws -> Response {
        // The page's links are relative to /ui/: send /ui there first.
        if !request.uri.path.hasSuffix("/") {
            var headers = HTTPFields()
            headers[.location] = "/ui/" + (request.uri.query.map { "?" + $0 } ?? "")
            return Response(status: .permanentRedirect, headers: headers)
        }
        let parameters: [(name: String, value: String)]
        let query: JobQuery
        do throws(BadRequest) {
            parameters = try Routes.query(request, allowed: Pages.listParameters, repeatable: ["status"])
            query = try Routes.jobQuery(parameters, now: clock(), emptyMeansUnset: true)
        } catch {
            return Pages.error(.badRequest, error.message, up: "./")
        }
        let now = query.now ?? clock()
        let projections = logbook.currentProjections
        let byStatus = projections.statusCounts
        let matching = logbook.jobs(query)
        let counts = JobStatus.allCases.map { status in
            StatusCount(name: status.name, count: String(byStatus[status] ?? 0), cls: "st-\(status.name)")
        }
        let rows = matching.prefix(Pages.listLimit).map { Pages.row($0, now: now) }
        let value: (String) -> String = { name in parameters.last { $0.name == name }?.value ?? "" }
        let selected = Set(parameters.filter { $0.name == "status" }.map(\.value))
        let model = ListPage(
            total: String(projections.jobCount), shown: String(rows.count), matching: String(matching.count),
            truncated: matching.count > rows.count, counts: counts, jobs: rows, hasJobs: !rows.isEmpty,
            statuses: JobStatus.allCases.map { StatusOption(name: $0.name, selected: selected.contains($0.name)) },
            resumable: !value("resumable").isEmpty, unfinalized: !value("unfinalized").isEmpty, node: value("node"),
            silentFor: value("silentFor"), stalledFor: value("stalledFor"), now: TerminalTimeline.clock(now))
        return Pages.html(.ok, Pages.library.render(model, withTemplate: "list") ?? "")
    }

    static func row(_ s: JobState, now: Timestamp) -> JobRow {
        let life: String
        if s.terminal {
            life = s.finalized ? "finalized" : "not finalized"
        } else if let last = s.lastSignOfLife {
            let gap = now.microseconds - last.microseconds
            life = gap >= 0 ? "last sign of life \(DurationText.short(gap)) ago" : "last sign of life in the future (clock skew)"
        } else {
            life = "no sign of life yet"
        }
        return JobRow(
            job: s.job, href: "jobs/" + Pages.pathSegment(s.job), status: s.status.name, cls: "st-\(s.status.name)",
            attempt: s.attempt == 0 ? "-" : "\(s.node ?? "?")#\(s.attempt)", life: life,
            anomalies: String(s.anomalyCount), version: String(s.version))
    }

    // MARK: GET /ui/jobs/{id}

    func job(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let job: String
        var untilSeq: UInt64?
        var at: Timestamp?
        var lease: Int64?
        do throws(BadRequest) {
            job = try Routes.job(context)
            for (name, value) in try Routes.query(request, allowed: ["until", "at", "lease"]) where !value.isEmpty {
                switch name {
                case "until":
                    guard let n = UInt64(value) else { throw BadRequest("until: not a seq (a whole number): \"\(value)\"") }
                    untilSeq = n
                case "at":
                    guard let t = Timestamp(rfc3339: value) else { throw BadRequest("at: not an RFC 3339 time: \"\(value)\"") }
                    at = t
                default:
                    guard let d = Duration(logbookText: value) else {
                        throw BadRequest("lease: not a duration: \"\(value)\" (examples: 90s, 30m, 1h)")
                    }
                    lease = d.wholeMicroseconds
                }
            }
        } catch {
            return Pages.error(.badRequest, error.message, up: "../")
        }
        var history = try logbook.history(of: job)
        guard !history.isEmpty else { return Pages.error(.notFound, "no such job: \(job)", up: "../") }
        let all = history
        if let untilSeq { history = Array(history.prefix { $0.event.seq <= untilSeq }) }
        if let at { history = Array(history.prefix { $0.event.at <= at }) }
        let layout = TimelineLayout(job: job, history: history, options: .init(lease: lease, end: at))
        // Scrubbing: the page after each event, one step back and forth.
        let shownLast = history.last?.event.seq
        let position = shownLast.flatMap { seq in all.firstIndex { $0.event.seq == seq } }
        let previous = position.flatMap { $0 > 0 ? all[$0 - 1].event.seq : nil }
        let next = position.map { $0 + 1 < all.count ? all[$0 + 1].event.seq : nil } ?? all.first?.event.seq
        let travelling = untilSeq != nil || at != nil
        let model = JobPage(
            job: job, status: layout.final.status.name, cls: "st-\(layout.final.status.name)",
            travelling: travelling,
            asOf: shownLast.map { "as of seq \($0)" + (at.map { " (\(TerminalTimeline.clock($0)))" } ?? "") } ?? "before its first event",
            events: String(all.count), previous: previous.map(String.init) ?? "", hasPrevious: previous != nil,
            next: next.map(String.init) ?? "", hasNext: next != nil && travelling,
            until: untilSeq.map(String.init) ?? "", at: at.map(\.rfc3339) ?? "", lease: lease.map { DurationText.short($0) } ?? "",
            timeline: HTMLTimeline().fragment(layout))
        return Pages.html(.ok, Pages.library.render(model, withTemplate: "job") ?? "")
    }

    // MARK: GET /ui/logbook.css

    func stylesheet() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/css; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: HTMLTimeline.stylesheet)))
    }

    // MARK: Helpers

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        // No script runs on these pages, and none may: a defence beside the escaping.
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, up: String) -> Response {
        html(status, library.render(ErrorPage(status: String(status.code), message: message, up: up), withTemplate: "error") ?? "")
    }

    /// A job id as one path segment: every byte but the unreserved ones percent-encoded.
    static func pathSegment(_ id: String) -> String {
        var out = ""
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    // MARK: View models (strings and flags only)

    struct StatusCount {
        let name: String
        let count: String
        let cls: String
    }

    struct StatusOption {
        let name: String
        let selected: Bool
    }

    struct JobRow {
        let job: String
        let href: String
        let status: String
        let cls: String
        let attempt: String
        let life: String
        let anomalies: String
        let version: String
    }

    struct ListPage {
        let total: String
        let shown: String
        let matching: String
        let truncated: Bool
        let counts: [StatusCount]
        let jobs: [JobRow]
        let hasJobs: Bool
        let statuses: [StatusOption]
        let resumable: Bool
        let unfinalized: Bool
        let node: String
        let silentFor: String
        let stalledFor: String
        let now: String
    }

    struct JobPage {
        let job: String
        let status: String
        let cls: String
        let travelling: Bool
        let asOf: String
        let events: String
        let previous: String
        let hasPrevious: Bool
        let next: String
        let hasNext: Bool
        let until: String
        let at: String
        let lease: String
        let timeline: String
    }

    struct ErrorPage {
        let status: String
        let message: String
        let up: String
    }

    // MARK: Templates

    static let library: MustacheLibrary = {
        // Constants of this file: a parse failure is a bug every page test catches.
        MustacheLibrary(templates: [
            "list": try! MustacheTemplate(string: listTemplate), "job": try! MustacheTemplate(string: jobTemplate),
            "error": try! MustacheTemplate(string: errorTemplate),
        ])
    }()

    static let listTemplate = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Logbook: jobs</title><link rel="stylesheet" href="logbook.css"></head>
        <body><h1>Jobs</h1>
        <p class="counts">{{#counts}}<a href="?status={{name}}"><span class="n">{{count}}</span> {{name}}</a>{{/counts}}<a href="./">all {{total}}</a></p>
        <form class="filters" method="get" action="./">
        <label>status<select name="status"><option value="">any</option>{{#statuses}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/statuses}}</select></label>
        <label>node<input name="node" value="{{node}}" size="12"></label>
        <label>silent for<input name="silentFor" value="{{silentFor}}" size="6" placeholder="10m"></label>
        <label>stalled for<input name="stalledFor" value="{{stalledFor}}" size="6" placeholder="1h"></label>
        <label><span><input type="checkbox" name="resumable" value="true"{{#resumable}} checked{{/resumable}}> resumable</span></label>
        <label><span><input type="checkbox" name="unfinalized" value="true"{{#unfinalized}} checked{{/unfinalized}}> unfinalized</span></label>
        <button type="submit">filter</button></form>
        <p>{{matching}} matching{{#truncated}}; the first {{shown}} shown{{/truncated}}. Ages are relative to {{now}}.</p>
        {{#hasJobs}}<table><thead><tr><th>job</th><th>status</th><th>attempt</th><th>life</th><th>anomalies</th><th>version</th></tr></thead><tbody>
        {{#jobs}}<tr><td><a href="{{href}}">{{job}}</a></td><td class="st"><span class="{{cls}}">{{status}}</span></td><td>{{attempt}}</td><td>{{life}}</td><td>{{anomalies}}</td><td>{{version}}</td></tr>
        {{/jobs}}</tbody></table>{{/hasJobs}}{{^hasJobs}}<p>No matching jobs.</p>{{/hasJobs}}
        </body></html>

        """#

    static let jobTemplate = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{job}}: Logbook</title><link rel="stylesheet" href="../logbook.css"></head>
        <body><p class="nav"><a href="../">all jobs</a></p>
        <h1>{{job}} <span class="status {{cls}}">{{status}}</span></h1>
        <p class="nav">{{#travelling}}Time travel: {{asOf}}. <a href="?">now</a>{{/travelling}}{{^travelling}}Now, {{events}} events.{{/travelling}}
        {{#hasPrevious}}<a href="?until={{previous}}">&#9664; seq {{previous}}</a>{{/hasPrevious}}{{#hasNext}}<a href="?until={{next}}">seq {{next}} &#9654;</a>{{/hasNext}}</p>
        <form class="filters" method="get" action=""><label>until seq<input name="until" value="{{until}}" size="8"></label><label>or at time<input name="at" value="{{at}}" size="22" placeholder="2026-06-01T10:00:00Z"></label><label>lease<input name="lease" value="{{lease}}" size="6" placeholder="90s"></label><button type="submit">show</button></form>
        {{{timeline}}}
        </body></html>

        """#

    static let errorTemplate = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{status}}: Logbook</title><link rel="stylesheet" href="{{up}}logbook.css"></head>
        <body><p class="nav"><a href="{{up}}">all jobs</a></p><h1>{{status}}</h1><p>{{message}}</p></body></html>

        """#
}
