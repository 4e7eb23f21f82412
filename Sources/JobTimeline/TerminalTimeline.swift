import Lifecycle

/// Draws a `TimelineLayout` for a terminal: a header, one row per lane on a shared time axis, then
/// the events that matter in time order (applied heartbeats collapsed into their runs), then the
/// findings. Every text from the journal is made printable; every line fits `width` columns.
public struct TerminalTimeline: Sendable {
    public var width: Int
    public var color: Bool
    /// Draw with ASCII only (no box-drawing characters or symbols).
    public var ascii: Bool

    public init(width: Int = 100, color: Bool = false, ascii: Bool = false) {
        self.width = max(width, 40)
        self.color = color
        self.ascii = ascii
    }

    /// The glyphs of one drawing.
    struct Glyphs {
        var live, heartbeat, silence, held, status, applied, ignored, decided, open, axis, bar: Character
        static let unicode = Glyphs(
            live: "─", heartbeat: "━", silence: "┄", held: "═", status: "─", applied: "●", ignored: "✕", decided: "◆",
            open: "▶", axis: "─", bar: "│")
        static let plain = Glyphs(
            live: "-", heartbeat: "=", silence: ".", held: "=", status: "-", applied: "o", ignored: "x", decided: "*",
            open: ">", axis: "-", bar: "|")
    }

    /// ANSI colours and weights, by their SGR codes.
    public enum Tone: String, Sendable {
        case red = "31", green = "32", yellow = "33", blue = "34", bold = "1", dim = "2"
    }

    func paint(_ text: String, _ tone: Tone?) -> String {
        guard color, let tone else { return text }
        return "\u{1B}[\(tone.rawValue)m\(text)\u{1B}[0m"
    }

    /// A status's colour, the same in every command and drawing.
    public static func tone(of status: JobStatus) -> Tone {
        switch status {
        case .pending: .dim
        case .running: .green
        case .interrupted: .yellow
        case .completed: .blue
        case .failed, .cancelled: .red
        }
    }

    public func render(_ layout: TimelineLayout) -> String {
        let g = ascii ? Glyphs.plain : Glyphs.unicode
        var lines: [String] = []
        lines += header(layout)
        let titles = layout.lanes.map { $0.title.printable }
        let labelWidth = min(max(titles.map(\.displayWidth).max() ?? 6, 6), max(width / 4, 8))
        let chartWidth = width - labelWidth - 3
        // The axis: start on the left, end on the right, the span in the middle.
        let from = Self.clock(layout.start), to = Self.clock(layout.end)
        let span = " " + DurationText.short(layout.end.microseconds - layout.start.microseconds) + " "
        let fill = max(chartWidth - from.count - to.count - span.count, 2)
        let axis = from + String(repeating: g.axis, count: fill / 2) + span + String(repeating: g.axis, count: fill - fill / 2) + to
        lines.append(String(repeating: " ", count: labelWidth + 3) + String(axis.prefix(chartWidth)))
        let scale = Scale(start: layout.start, end: layout.end, columns: chartWidth)
        for (lane, title) in zip(layout.lanes, titles) {
            lines.append(pad(title.cut(toColumns: labelWidth), labelWidth) + " " + String(g.bar) + " " + row(lane, scale, g))
        }
        lines.append("")
        for item in keyItems(layout) { lines.append(fit(item)) }
        if !layout.findings.isEmpty {
            lines.append("")
            for finding in layout.findings {
                lines += wrap("! " + Self.describe(finding), indent: "  ").map { paint($0, .yellow) }
            }
        }
        let text = lines.joined(separator: "\n") + "\n"
        return ascii ? Self.asciiOnly(text) : text
    }

    /// The few non-ASCII characters the drawing itself uses, in ASCII (`--ascii`); journal text that
    /// is not ASCII stays as it is.
    static func asciiOnly(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "×": out += "x"
            case "…": out += "~"  // one column, as the ellipsis it stands for
            case "·": out += "|"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The job, its verdict and counts: one line, wrapped between parts when it does not fit.
    func header(_ layout: TimelineLayout) -> [String] {
        let s = layout.final
        var parts = [layout.job.printable, paint(s.status.name, Self.tone(of: s.status))]
        if let seq = s.decidedBy {
            parts.append("decided at seq \(seq)" + (s.decidedReason.map { " (\($0.printable))" } ?? ""))
        }
        let events = layout.eventCount == 1 ? "1 event" : "\(layout.eventCount) events"
        parts.append(layout.ignoredCount == 0 ? events : "\(events), \(layout.ignoredCount) ignored")
        if s.terminal { parts.append(s.finalized ? "finalized" : "not finalized") }
        var lines: [String] = []
        var line = ""
        for part in parts {
            let candidate = line.isEmpty ? part : line + " · " + part
            let visible = color ? Self.stripANSI(candidate) : candidate
            if visible.displayWidth > width, !line.isEmpty {
                lines.append(fit(line))
                line = "  " + part
            } else {
                line = candidate
            }
        }
        lines.append(fit(line))
        return lines
    }

    /// Maps times to columns of the chart.
    struct Scale {
        let start: Timestamp
        let end: Timestamp
        let columns: Int

        func column(_ t: Timestamp) -> Int {
            let total = end.microseconds - start.microseconds
            guard total > 0, columns > 1 else { return 0 }
            let offset = min(max(t.microseconds - start.microseconds, 0), total)
            return Int((Double(offset) / Double(total) * Double(columns - 1)).rounded())
        }
    }

    /// One lane as a row of cells: spans first, marks over them (decided over ignored over applied).
    func row(_ lane: TimelineLayout.Lane, _ scale: Scale, _ g: Glyphs) -> String {
        var cells = [Character](repeating: " ", count: scale.columns)
        var tones = [Tone?](repeating: nil, count: scale.columns)
        var rank = [Int](repeating: 0, count: scale.columns)
        func put(_ c: Character, _ tone: Tone?, at i: Int, rank r: Int) {
            guard i >= 0, i < cells.count, r >= rank[i] else { return }
            cells[i] = c
            tones[i] = tone
            rank[i] = r
        }
        let order: (TimelineLayout.SpanKind) -> Int = {
            switch $0 {
            case .status, .attempt, .held: 10
            case .heartbeats: 20
            case .silence: 30
            }
        }
        for span in lane.spans.sorted(by: { order($0.kind) < order($1.kind) }) {
            let (glyph, tone): (Character, Tone?) =
                switch span.kind {
                case .status(let s): (g.status, Self.tone(of: s))
                case .attempt: (g.live, .green)
                case .heartbeats: (g.heartbeat, .green)
                case .silence: (g.silence, .yellow)
                case .held: (g.held, .blue)
                }
            let a = scale.column(span.from), b = scale.column(span.to)
            for i in a...max(a, b) { put(glyph, tone, at: i, rank: order(span.kind)) }
            if span.open, b == scale.columns - 1 { put(g.open, tone, at: b, rank: order(span.kind)) }
            // The span's words inside it when they fit, so the picture reads without colour.
            let words = Array(" \(span.label) ")
            if span.kind != .attempt, b - a - 1 >= words.count, words.allSatisfy({ String($0).displayWidth == 1 }) {
                let at = a + 1 + (b - a - 1 - words.count) / 2
                for (k, c) in words.enumerated() { put(c, tone, at: at + k, rank: order(span.kind) + 1) }
            }
        }
        for mark in lane.marks {
            let i = scale.column(mark.at)
            switch mark.kind {
            case .decided: put(g.decided, .bold, at: i, rank: 70)
            case .ignored: put(g.ignored, .red, at: i, rank: 60)
            case .applied where mark.type == .heartbeat: put(g.heartbeat, .green, at: i, rank: 20)
            case .applied: put(g.applied, nil, at: i, rank: 50)
            }
        }
        guard color else { return String(cells) }
        var out = ""
        for (c, t) in zip(cells, tones) { out += paint(String(c), t) }
        return out
    }

    /// The events that matter, in time order: every mark but applied heartbeats, each heartbeat run
    /// and silence as one line.
    func keyItems(_ layout: TimelineLayout) -> [String] {
        let g = ascii ? Glyphs.plain : Glyphs.unicode
        let seqWidth = String(layout.lanes.flatMap(\.marks).map(\.seq).max() ?? 0).count
        let laneWidth = min(layout.lanes.map { $0.title.printable.displayWidth }.max() ?? 0, max(width / 5, 8))
        let indent = String(repeating: " ", count: 2 + seqWidth + 2)
        func row(_ glyph: Character, _ seq: UInt64?, _ at: Timestamp, _ lane: String, _ what: String) -> String {
            let s = seq.map { String($0) } ?? ""
            return "\(glyph) " + String(repeating: " ", count: seqWidth - s.count) + s + "  \(Self.clock(at))  "
                + pad(lane.cut(toColumns: laneWidth), laneWidth) + "  " + what
        }
        var items: [(at: Timestamp, seq: UInt64, lines: [String])] = []
        for lane in layout.lanes {
            let title = lane.title.printable
            for m in lane.marks where !(m.type == .heartbeat && m.kind == .applied) {
                var lines: [String]
                switch m.kind {
                case .applied:
                    lines = [row(g.applied, m.seq, m.at, title, m.label.printable)]
                case .decided:
                    lines = [paint(row(g.decided, m.seq, m.at, title, m.label.printable + "  DECIDED"), .bold)]
                case .ignored(let reason):
                    lines = [row(g.ignored, m.seq, m.at, title, m.label.printable),
                             paint(indent + "IGNORED: \(reason.printable)", .red)]
                }
                if m.clockSkew { lines.append(paint(indent + "its time is earlier than the event before it (clock skew)", .yellow)) }
                items.append((m.at, m.seq, lines))
            }
            for s in lane.spans {
                switch s.kind {
                case .heartbeats:
                    items.append((s.from, .max, [row(g.heartbeat, nil, s.from, title, s.label)]))
                case .silence:
                    items.append((s.from, .max, [paint(row(g.silence, nil, s.from, title, s.label), .yellow)]))
                default:
                    break
                }
            }
        }
        // Stable: by time, then seq (runs and silences after the event at the same instant).
        return items.enumerated().sorted { a, b in
            (a.element.at, a.element.seq, a.offset) < (b.element.at, b.element.seq, b.offset)
        }.flatMap(\.element.lines)
    }

    public static func describe(_ finding: TimelineLayout.Finding) -> String {
        switch finding {
        case .unfinalized(let seq):
            "terminal but not finalized\(seq.map { " since seq \($0)" } ?? ""): its side effects have not run (an open outbox entry)"
        case .overlap(let earlier, let later, let from, let to):
            "attempts \(earlier) and \(later) overlap: attempt \(earlier) wrote from \(clock(from)) to \(clock(to)), after attempt \(later) started (split brain; its events are fenced)"
        case .clockSkew(let seq, let at, let previous):
            "clock skew at seq \(seq): its time \(clock(at)) is before the previous event's \(clock(previous))"
        case .noProgress(let attempt, let since, let d):
            "attempt \(attempt) has made no progress for \(DurationText.short(d)) (since \(clock(since))), whatever its heartbeats say"
        }
    }

    /// `2026-06-01 08:21:13Z`: RFC 3339 with a space, whole seconds (the exact time is in `replay`).
    public static func clock(_ t: Timestamp) -> String {
        let text = t.rfc3339
        guard let dot = text.firstIndex(of: ".") else { return text.replacingFirstT() }
        return (String(text[..<dot]) + "Z").replacingFirstT()
    }

    func fit(_ line: String) -> String {
        // Lines with colour codes are measured without them.
        let visible = color ? Self.stripANSI(line) : line
        guard visible.displayWidth > width else { return line }
        return visible.cut(toColumns: width)
    }

    /// Words wrapped to the width, continuation lines indented.
    func wrap(_ text: String, indent: String) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            let candidate = line.isEmpty ? word : line + " " + word
            if candidate.displayWidth > width, !line.isEmpty, line != indent {
                lines.append(line)
                line = indent + word
            } else {
                line = candidate
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { fit($0) }
    }

    func pad(_ text: String, _ columns: Int) -> String {
        text + String(repeating: " ", count: max(columns - text.displayWidth, 0))
    }

    static func stripANSI(_ s: String) -> String {
        var out = ""
        var inEscape = false
        for scalar in s.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" {
                inEscape = true
                continue
            }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}

extension String {
    fileprivate func replacingFirstT() -> String {
        guard let i = firstIndex(of: "T") else { return self }
        var s = self
        s.replaceSubrange(i...i, with: " ")
        return s
    }
}
