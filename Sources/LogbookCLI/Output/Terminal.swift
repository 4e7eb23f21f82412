import JobTimeline
import Logbook

#if canImport(Glibc)
import Glibc
#endif

/// Writing to stdout/stderr, and what the terminal can show.
enum Terminal {
    static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
    static var colourOnStdout: Bool { isTTY(1) && getenv("NO_COLOR") == nil && getenv("TERM").map { String(cString: $0) } != "dumb" }

    /// The width of the terminal on stdout, else `$COLUMNS`; nil when neither says.
    static var columns: Int? {
        var size = winsize()
        if isTTY(1), ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let text = getenv("COLUMNS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
        return nil
    }

    static func write(_ text: String, to fd: Int32 = 1) {
        Array(text.utf8).withUnsafeBytes { write($0, to: fd) }
    }

    static func write(_ bytes: UnsafeRawBufferPointer, to fd: Int32 = 1) {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            off += n
        }
    }

    static func line(_ text: String) { write(text + "\n") }
    static func errorLine(_ text: String) { write(text + "\n", to: 2) }

    enum Style: String {
        case red = "31", green = "32", yellow = "33", blue = "34", bold = "1", dim = "2"
    }

    /// Where tables fit: the terminal's width when stdout is one, else nothing is cut.
    static var tableWidth: Int? { isTTY(1) ? columns : nil }

    /// A status's colour: the timeline's (one mapping for every command).
    static func style(of status: JobStatus) -> Style? { Style(rawValue: TerminalTimeline.tone(of: status).rawValue) }

    /// "26h ago", "in 5m" (a clock ahead of ours), or "now".
    static func age(_ t: Timestamp, now: Timestamp) -> String {
        let d = now.microseconds - t.microseconds
        if abs(d) < 1_000_000 { return "now" }
        return d > 0 ? DurationText.short(d) + " ago" : "in " + DurationText.short(-d)
    }

    static func styled(_ text: String, _ style: Style, enabled: Bool) -> String {
        enabled ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }
}
