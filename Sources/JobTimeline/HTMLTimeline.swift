import Lifecycle
import Mustache

/// Draws a `TimelineLayout` as HTML: an inline SVG chart of the lanes, the verdict, the findings and
/// the event table, from Mustache templates. Every text from the journal goes through `{{…}}`,
/// which escapes `& < > " '`, so a job named `<img src=x onerror=alert(1)>` is text, in element
/// content and in attributes alike; nothing is ever inserted unescaped but the fixed CSS. No
/// script, font or image from elsewhere; the same layout always gives the same bytes.
public struct HTMLTimeline: Sendable {
    /// Chart width in pixels (the SVG scales to the page).
    public var chartWidth = 1000

    public init() {}

    /// A whole self-contained page: `logbook timeline JOB --html FILE`.
    public func document(_ layout: TimelineLayout, generator: String = "logbook timeline") -> String {
        Self.library.render(model(layout, generator: generator), withTemplate: "document") ?? ""
    }

    /// The chart, verdict, findings and events as a fragment, for a page that brings its own frame.
    public func fragment(_ layout: TimelineLayout) -> String {
        Self.library.render(model(layout, generator: ""), withTemplate: "timeline") ?? ""
    }

    // MARK: - The view model (strings only: the templates decide nothing)

    struct Page {
        let job: String
        let status: String
        let statusClass: String
        let verdict: [Pair]
        let chart: Chart
        let findings: [String]
        let hasFindings: Bool
        let events: [Row]
        let generator: String
    }

    struct Pair {
        let key: String
        let value: String
    }

    struct Chart {
        let width: String
        let height: String
        let axisY: String
        let ticks: [Tick]
        let lanes: [LaneShape]
    }

    struct Tick {
        let x: String
        let label: String
        let anchor: String
    }

    struct LaneShape {
        /// The title as it fits the label column; `fullTitle` in its tooltip.
        let title: String
        let fullTitle: String
        let y: String
        let textY: String
        let lineY: String
        let spans: [SpanShape]
        let marks: [MarkShape]
    }

    struct SpanShape {
        let x: String
        let y: String
        let w: String
        let h: String
        let cls: String
        let tip: String
        let label: String
        let labelX: String
        let labelY: String
        let showLabel: Bool
    }

    struct MarkShape {
        let seq: String
        let path: String
        let cls: String
        let tip: String
    }

    struct Row {
        let seq: String
        let time: String
        let lane: String
        let what: String
        /// The event's data, cut to `dataShown` bytes on a character.
        let data: String
        let hasData: Bool
        let effect: String
        let cls: String
        let anchor: Bool
    }

    static let labelWidth = 170
    static let laneHeight = 30
    static let top = 34

    func model(_ layout: TimelineLayout, generator: String) -> Page {
        let s = layout.final
        var verdict = [Pair(key: "status", value: s.status.name + (s.terminal ? (s.finalized ? " (finalized)" : " (not finalized)") : ""))]
        if let seq = s.decidedBy { verdict.append(Pair(key: "decided by", value: "seq \(seq)" + (s.decidedReason.map { ": \($0)" } ?? ""))) }
        verdict.append(Pair(key: "attempt", value: s.attempt == 0 ? "none yet" : "\(s.attempt) on \(s.node ?? "an unnamed node")"))
        verdict.append(Pair(key: "refs held", value: s.refs.isEmpty ? "none" : s.refs.joined(separator: ", ")))
        verdict.append(Pair(key: "events", value: "\(layout.eventCount), \(layout.ignoredCount) ignored by the fold"))
        if let claim = s.finalizing, !s.finalized {
            verdict.append(Pair(key: "finalizing", value: "claimed by \(claim.holder) at seq \(claim.seq)"))
        }
        let findings = layout.findings.map(TerminalTimeline.describe)
        return Page(
            job: layout.job, status: s.status.name, statusClass: "st-\(s.status.name)", verdict: verdict, chart: chart(layout),
            findings: findings, hasFindings: !findings.isEmpty, events: rows(layout), generator: generator)
    }

    func chart(_ layout: TimelineLayout) -> Chart {
        let plotWidth = Double(chartWidth - Self.labelWidth - 10)
        let total = Double(max(layout.end.microseconds - layout.start.microseconds, 0))
        func x(_ t: Timestamp) -> Double {
            guard total > 0 else { return Double(Self.labelWidth) }
            let offset = Double(min(max(t.microseconds - layout.start.microseconds, 0), Int64(total)))
            return Double(Self.labelWidth) + offset / total * plotWidth
        }
        var lanes: [LaneShape] = []
        for (i, lane) in layout.lanes.enumerated() {
            let top = Self.top + i * Self.laneHeight
            let mid = Double(top) + Double(Self.laneHeight) / 2
            var spans: [SpanShape] = []
            for span in lane.spans {
                let (cls, height): (String, Double) =
                    switch span.kind {
                    case .status(let st): ("sp st-\(st.name)", 14)
                    case .attempt: ("sp live", 4)
                    case .heartbeats: ("sp hb", 8)
                    case .silence: ("sp silence", 8)
                    case .held: ("sp held", 8)
                    }
                let x0 = x(span.from), x1 = max(x(span.to), x0 + 1)
                let width = x1 - x0
                let estimated = Double(span.label.count) * 6.2 + 8
                spans.append(SpanShape(
                    x: Self.number(x0), y: Self.number(mid - height / 2), w: Self.number(width), h: Self.number(height),
                    cls: cls + (span.open ? " open" : ""), tip: span.label, label: span.label,
                    labelX: Self.number(x0 + width / 2), labelY: Self.number(mid - height / 2 - 3),
                    showLabel: span.kind != .attempt && width >= estimated))
            }
            var marks: [MarkShape] = []
            for m in lane.marks where !(m.type == .heartbeat && m.kind == .applied) {
                let cx = x(m.at)
                let (path, cls, tip): (String, String, String) =
                    switch m.kind {
                    case .applied:
                        (Self.circle(cx, mid), "mk", "seq \(m.seq): \(m.label)")
                    case .decided:
                        (Self.diamond(cx, mid), "mk decided", "seq \(m.seq): \(m.label) (decided)")
                    case .ignored(let reason):
                        (Self.cross(cx, mid), "mk ignored", "seq \(m.seq): \(m.label). IGNORED: \(reason)")
                    }
                marks.append(MarkShape(seq: String(m.seq), path: path, cls: cls + (m.clockSkew ? " skew" : ""), tip: tip))
            }
            let short = lane.title.count > 26 ? String(lane.title.prefix(25)) + "…" : lane.title
            lanes.append(LaneShape(
                title: short, fullTitle: lane.title, y: String(top), textY: Self.number(mid + 4), lineY: Self.number(mid), spans: spans,
                marks: marks))
        }
        // Ticks: the ends and three between, in UTC.
        var ticks: [Tick] = []
        for k in 0...4 {
            let t = Timestamp(microseconds: layout.start.microseconds + Int64(total * Double(k) / 4))
            let label = k == 0 || k == 4 ? TerminalTimeline.clock(t) : String(TerminalTimeline.clock(t).dropFirst(11))
            ticks.append(Tick(x: Self.number(x(t)), label: label, anchor: k == 0 ? "start" : k == 4 ? "end" : "middle"))
        }
        let height = Self.top + layout.lanes.count * Self.laneHeight + 6
        return Chart(
            width: String(chartWidth), height: String(height), axisY: String(Self.top - 6), ticks: ticks, lanes: lanes)
    }

    /// The event table: every event but applied heartbeats, which appear as their runs.
    func rows(_ layout: TimelineLayout) -> [Row] {
        var rows: [(Timestamp, UInt64, Row)] = []
        for lane in layout.lanes {
            for m in lane.marks where !(m.type == .heartbeat && m.kind == .applied) {
                let (effect, cls): (String, String) =
                    switch m.kind {
                    case .applied: (m.clockSkew ? "applied (clock skew)" : "applied", "")
                    case .decided: ("decided the outcome", "decided")
                    case .ignored(let reason): ("IGNORED: \(reason)", "ignored")
                    }
                let data = m.data.map(Self.cut) ?? ""
                rows.append((m.at, m.seq, Row(
                    seq: String(m.seq), time: TerminalTimeline.clock(m.at), lane: lane.title, what: m.label, data: data,
                    hasData: m.data != nil, effect: effect, cls: cls, anchor: true)))
            }
            for span in lane.spans {
                switch span.kind {
                case .heartbeats, .silence:
                    rows.append((span.from, .max, Row(
                        seq: "", time: TerminalTimeline.clock(span.from), lane: lane.title, what: span.label, data: "",
                        hasData: false, effect: "",
                        cls: span.kind == .silence ? "silence" : "hb", anchor: false)))
                default:
                    break
                }
            }
        }
        return rows.enumerated().sorted { a, b in
            (a.element.0, a.element.1, a.offset) < (b.element.0, b.element.1, b.offset)
        }.map(\.element.2)
    }

    /// At most this many bytes of an event's data are shown (data may be 16 MiB).
    static let dataShown = 300

    static func cut(_ text: String) -> String {
        guard text.utf8.count > dataShown else { return text }
        var out = ""
        for ch in text {
            if out.utf8.count + String(ch).utf8.count > dataShown { break }
            out.append(ch)
        }
        return out + "…"
    }

    static func circle(_ x: Double, _ y: Double) -> String {
        "M\(number(x - 4)) \(number(y))a4 4 0 1 0 8 0a4 4 0 1 0-8 0"
    }

    static func diamond(_ x: Double, _ y: Double) -> String {
        "M\(number(x)) \(number(y - 7))l7 7-7 7-7-7z"
    }

    static func cross(_ x: Double, _ y: Double) -> String {
        "M\(number(x - 5)) \(number(y - 5))l10 10m0-10-10 10"
    }

    /// One decimal, the same everywhere (no locale, no exponent).
    static func number(_ v: Double) -> String {
        let tenths = Int64((v * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let a = abs(tenths)
        return a % 10 == 0 ? "\(sign)\(a / 10)" : "\(sign)\(a / 10).\(a % 10)"
    }

    // MARK: - Templates

    static let library: MustacheLibrary = {
        // The templates are constants of this file; a parse failure is a bug caught by every test.
        let timeline = try! MustacheTemplate(string: timelineTemplate)
        let document = try! MustacheTemplate(string: documentTemplate)
        let style = try! MustacheTemplate(string: stylesheet)
        return MustacheLibrary(templates: ["timeline": timeline, "document": document, "style": style])
    }()

    /// The CSS of the file and of the service's pages (which serve it at `/ui/logbook.css`).
    public static let stylesheet = #"""
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#1d2330;background:#fff}
        h1{font-size:1.4em;margin:0 0 .3em}h1 .status{font-size:.7em;padding:.15em .5em;border-radius:.3em;vertical-align:middle;color:#fff}
        h2{font-size:1.05em;margin:1.2em 0 .4em;border-bottom:1px solid #dde}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}dt{color:#667}dd{margin:0;overflow-wrap:anywhere}
        .findings li{color:#8a4b00}
        svg{font:11px system-ui,sans-serif;background:#fbfbfd;border:1px solid #e4e4ee}
        .ticks text{fill:#667}.ticks path{stroke:#e6e6ef}.title{fill:#1d2330;font-weight:600}.rule{stroke:#eee}
        .sp{stroke:none}.live{fill:#4c9a61}.hb{fill:#2f7d46}.silence{fill:#f0b429;opacity:.75}.held{fill:#5b7fd6}
        .sl{fill:#1d2330}.mk{fill:#1d2330;stroke:#1d2330;stroke-width:1.5}.mk.ignored{fill:none;stroke:#c8322f;stroke-width:2.5}
        .mk.decided{fill:#1d2330}.mk.skew{stroke:#f0b429}
        .st-pending{fill:#c9ccd6;background:#8a8fa0}.st-running{fill:#9fd3ae;background:#2f7d46}.st-interrupted{fill:#f6d58e;background:#b7791f}
        .st-completed{fill:#9dbcf0;background:#2b5fc4}.st-failed{fill:#f2a7a5;background:#c8322f}.st-cancelled{fill:#f2a7a5;background:#c8322f}
        .verdict{border-left:4px solid #ccd;padding-left:.8em}
        .legend .k{margin-right:1em}.legend .ignored{color:#c8322f}.legend .hb{color:#2f7d46}.legend .silence{color:#b7791f}.legend .held{color:#5b7fd6}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.2em .5em;border-bottom:1px solid #eef;vertical-align:top}
        td:nth-child(4),td:nth-child(5){overflow-wrap:anywhere}tr.ignored td{color:#a12a27}tr.decided td{font-weight:600}
        tr.silence td,tr.hb td{color:#667}tr:target{background:#fff4c2}code{font-size:.85em;color:#445;overflow-wrap:anywhere}
        footer{margin-top:2em;color:#889;font-size:.85em}
        .nav{margin:.2em 0 1em}.nav a{margin-right:1em}
        form.filters{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:end;margin:.5em 0 1em}form.filters label{display:flex;flex-direction:column;font-size:.85em;color:#667}
        .counts a{margin-right:1em;text-decoration:none}.counts .n{font-weight:600}
        td.st span{padding:.05em .4em;border-radius:.25em;color:#fff;font-size:.85em}
        """#

    static let timelineTemplate = #"""
        <section class="verdict"><h2>Verdict</h2><dl>{{#verdict}}<dt>{{key}}</dt><dd>{{value}}</dd>{{/verdict}}</dl></section>
        {{#hasFindings}}<section class="findings"><h2>What stands out</h2><ul>{{#findings}}<li>{{.}}</li>{{/findings}}</ul></section>{{/hasFindings}}
        <section class="chart"><h2>Timeline</h2>
        {{#chart}}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{width}} {{height}}" width="100%" role="img" aria-label="timeline of the job">
        <g class="ticks">{{#ticks}}<text x="{{x}}" y="14" text-anchor="{{anchor}}">{{label}}</text><path d="M{{x}} 20v{{height}}"/>{{/ticks}}</g>
        {{#lanes}}<g class="lane"><text x="4" y="{{textY}}" class="title">{{title}}<title>{{fullTitle}}</title></text><path class="rule" d="M170 {{lineY}}H{{width}}"/>
        {{#spans}}<rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" class="{{cls}}"><title>{{tip}}</title></rect>{{#showLabel}}<text x="{{labelX}}" y="{{labelY}}" class="sl" text-anchor="middle">{{label}}</text>{{/showLabel}}
        {{/spans}}{{#marks}}<a href="#seq-{{seq}}"><path d="{{path}}" class="{{cls}}"><title>{{tip}}</title></path></a>{{/marks}}</g>
        {{/lanes}}</svg>{{/chart}}
        <p class="legend"><span class="k applied">&#9679; applied</span> <span class="k ignored">&#10005; ignored (kept as evidence)</span> <span class="k decided">&#9670; decided the outcome</span> <span class="k hb">heartbeats</span> <span class="k silence">silence</span> <span class="k held">ref held</span></p>
        </section>
        <section class="events"><h2>Events</h2><table><thead><tr><th>seq</th><th>time (UTC)</th><th>lane</th><th>event</th><th>what the fold did</th></tr></thead><tbody>
        {{#events}}<tr class="{{cls}}"{{#anchor}} id="seq-{{seq}}"{{/anchor}}><td>{{seq}}</td><td>{{time}}</td><td>{{lane}}</td><td>{{what}}{{#hasData}}<br><code>{{data}}</code>{{/hasData}}</td><td>{{effect}}</td></tr>
        {{/events}}</tbody></table></section>
        """#

    static let documentTemplate = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{job}}: timeline</title>
        <style>
        {{> style}}
        </style></head>
        <body><h1>{{job}} <span class="status {{statusClass}}">{{status}}</span></h1>
        {{> timeline}}
        <footer>Drawn by {{generator}} from the job's events and the fold's effect of each. Self-contained: no script, nothing loaded from elsewhere.</footer>
        </body></html>

        """#
}
