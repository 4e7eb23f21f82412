import JobTimeline
/// A plain aligned text table: columns padded to their widest cell, measured in terminal columns.
/// Cells are made printable (control characters escaped), so no cell can break a row or the screen.
struct Table {
    var header: [String]
    var rows: [[String]] = []
    /// Optional per-row styling applied after padding (so escape codes never break alignment).
    var rowStyle: ((Int, String) -> String)? = nil

    init(_ header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row.map(\.printable)) }

    func render() -> String {
        var widths = header.map(\.displayWidth)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.displayWidth) }
        }
        func format(_ cells: [String]) -> String {
            var line = ""
            for (i, cell) in cells.enumerated() {
                let last = i == cells.count - 1
                line += last ? cell : cell + String(repeating: " ", count: widths[i] - cell.displayWidth + 2)
            }
            return line
        }
        var out = format(header) + "\n"
        for (i, row) in rows.enumerated() {
            let text = format(row)
            out += (rowStyle?(i, text) ?? text) + "\n"
        }
        return out
    }
}
