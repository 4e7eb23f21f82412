import JobTimeline
import Lifecycle
import Testing

/// The HTML file: self-contained, deterministic, small, and everything from the journal escaped.
@Suite struct HTMLTimelineTests {
    typealias T = TimelineLayoutTests

    static let hostile = "<img src=x onerror=alert(1)>"

    /// A job whose every text field is hostile.
    static func hostileLayout() -> TimelineLayout {
        let node = #"n"><script>alert(1)</script>"#
        let history = T.history([
            (0, Event(job: hostile, type: .started, node: node, attempt: 1)),
            (10, Event(job: hostile, type: .refAcquired, holder: "h' onmouseover='alert(1)")),
            (20, Event(job: hostile, type: .cancelled, reason: "</td></tr></table><iframe src=//evil>", data: #"{"note":"<svg onload=alert(3)>"}"#)),
            (30, Event(job: hostile, type: .heartbeat, reason: "&lt;b&gt;", attempt: 1)),
        ]).map { entry -> TimelineEntry in
            var e = entry
            e.event.event.job = hostile
            e.stateAfter.job = hostile
            return e
        }
        return TimelineLayout(job: hostile, history: history)
    }

    /// Tag names in `html`.
    static func tags(_ html: String) -> Set<String> {
        Set(html.matches(of: /<\/?([a-zA-Z][a-zA-Z0-9]*)/).map { String($0.output.1).lowercased() })
    }

    static let allowedTags: Set<String> = [
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "span", "section", "dl", "dt", "dd", "ul", "li", "svg",
        "g", "text", "path", "rect", "a", "p", "table", "thead", "tbody", "tr", "th", "td", "footer", "br", "code",
    ]

    @Test func everyTextFromTheJournalIsEscapedInTextAndAttributes() {
        let html = HTMLTimeline().document(Self.hostileLayout())
        #expect(Self.tags(html).isSubset(of: Self.allowedTags), "\(Self.tags(html).subtracting(Self.allowedTags))")
        #expect(!html.contains(Self.hostile))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(!html.contains("onmouseover='") && html.contains("h&#39; onmouseover=&#39;alert(1)"))
        #expect(!html.lowercased().contains("<script") && !html.lowercased().contains("<iframe"))
        #expect(html.contains("{&quot;note&quot;:&quot;&lt;svg onload=alert(3)&gt;&quot;}"))  // data, as text
        // An entity in the data is data: shown as typed, not decoded by the browser.
        #expect(html.contains("&amp;lt;b&amp;gt;"))
    }

    @Test func theFileIsSelfContained() {
        let html = HTMLTimeline().document(T().layout([
            (0, T.ev(.started, node: "a", attempt: 1)), (5, T.ev(.heartbeat, attempt: 1)), (9, T.ev(.completed, attempt: 1)),
        ]))
        let lower = html.lowercased()
        for banned in ["<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "https://"] {
            #expect(!lower.contains(banned), "\(banned)")
        }
        // The only URL is the SVG namespace, which is never fetched.
        #expect(lower.matches(of: /http:\/\//).count == 1 && lower.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(html.hasPrefix("<!doctype html>"))
    }

    @Test func theSameLayoutGivesTheSameBytes() {
        let a = HTMLTimeline().document(Self.hostileLayout())
        let b = HTMLTimeline().document(Self.hostileLayout())
        #expect(a == b)
    }

    @Test func aThousandEventJobFitsIn200KiBWithAnAnchorPerEvent() {
        var events: [(Int64, Event)] = [(0, T.ev(.created)), (1, T.ev(.started, node: "worker-1", attempt: 1))]
        for i in 0..<997 {
            let t = 2 + Int64(i) * 30
            events.append((t, i % 3 == 0 ? T.ev(.progress, attempt: 1) : T.ev(.heartbeat, attempt: 1)))
        }
        events.append((40_000, T.ev(.completed, attempt: 1)))
        let layout = T().layout(events)
        #expect(layout.eventCount == 1000)
        let html = HTMLTimeline().document(layout)
        #expect(html.utf8.count < 200 * 1024, "\(html.utf8.count) bytes")
        // Every event but the applied heartbeats (drawn as their runs) has a row to link to.
        let progress = events.filter { $0.1.type != .heartbeat }.count
        #expect(html.matches(of: /id="seq-\d+"/).count == progress)
        #expect(html.matches(of: /href="#seq-\d+"/).count == progress)
    }

    @Test func anEventsDataIsShownCutToAFewHundredBytes() {
        let big = #"{"blob":""# + String(repeating: "é", count: 600_000) + #""}"#
        let html = HTMLTimeline().document(T().layout([(0, Event(job: "j", type: .created, data: big))]))
        #expect(html.utf8.count < 20_000)
        #expect(html.contains("<code>{&quot;blob&quot;:&quot;éé") && html.contains("é…</code>"))
    }

    @Test func thePageCountsWhatTheFoldIgnored() {
        let layout = Self.hostileLayout()
        let html = HTMLTimeline().document(layout)
        #expect(layout.ignoredCount == 1)
        #expect(html.contains("<dd>4, 1 ignored by the fold</dd>"))
        #expect(html.matches(of: /<tr class="ignored"/).count == layout.ignoredCount)
    }
}
