#if canImport(Glibc)
import Glibc
#endif

/// A progress bar on stderr, drawn only when stderr is a terminal; silent otherwise.
struct ProgressBar {
    let total: Int
    let label: String
    let unit: String
    let enabled: Bool
    private var lastDrawn = -1

    /// Work of fewer events than this finishes too fast to need a bar.
    static let eventThreshold = 100_000

    init(total: Int, label: String, unit: String = "events") {
        self.total = max(total, 1)
        self.label = label
        self.unit = unit
        enabled = Terminal.isTTY(2) && total > 0
    }

    mutating func update(_ done: Int) {
        guard enabled else { return }
        let percent = min(100, done * 100 / total)
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        Terminal.write("\r\(label) \(bar) \(percent)% (\(done)/\(total) \(unit))", to: 2)
    }

    func finish() {
        guard enabled else { return }
        Terminal.write("\r\u{1B}[2K", to: 2)
    }
}
