import JobTimeline
/// A plain aligned text table: columns padded to their widest cell, measured in terminal columns.
/// Cells are made printable (control characters escaped), so no cell can break a row or the screen.
struct Table {
    var header: [String]
    var rows: [[String]] = []
    /// Optional per-row styling applied after padding (so escape codes never break alignment).
    var rowStyle: ((Int, String) -> String)? = nil
    /// Optional styling of one cell (row, column, padded text), also after padding.
    var cellStyle: ((Int, Int, String) -> String)? = nil
    /// Columns never shrink below this when the table must fit a width.
    static let narrowest = 6

    init(_ header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row.map(\.printable)) }

    /// The table, fitted to `width` columns when given (a terminal's): the widest columns shrink first,
    /// their cells cut with an ellipsis. Without a width (output to a pipe) nothing is cut.
    func render(width: Int? = nil) -> String {
        var widths = header.map(\.displayWidth)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.displayWidth) }
        }
        if let width {
            var total = widths.reduce(0, +) + 2 * max(widths.count - 1, 0)
            // The first column (the job) names the row: it gives way only when every other is narrowest.
            func widest() -> Int? {
                let others = widths.indices.dropFirst().filter { widths[$0] > Table.narrowest }
                if let i = others.max(by: { widths[$0] < widths[$1] }) { return i }
                return widths.first.map { $0 > Table.narrowest } == true ? 0 : nil
            }
            while total > width, let i = widest() {
                widths[i] -= 1
                total -= 1
            }
        }
        func format(_ cells: [String], row: Int?) -> String {
            var line = ""
            for (i, raw) in cells.enumerated() {
                let cell = i < widths.count ? raw.cut(toColumns: widths[i]) : raw
                let last = i == cells.count - 1
                var text = last ? cell : cell + String(repeating: " ", count: max(widths[i] - cell.displayWidth, 0) + 2)
                if let row, let cellStyle { text = cellStyle(row, i, text) }
                line += text
            }
            return line
        }
        var out = format(header, row: nil) + "\n"
        for (i, row) in rows.enumerated() {
            let text = format(row, row: i)
            out += (rowStyle?(i, text) ?? text) + "\n"
        }
        return out
    }
}
