/// A plain aligned text table: columns padded to their widest cell.
struct Table {
    var header: [String]
    var rows: [[String]] = []
    /// Optional per-row styling applied after padding (so escape codes never break alignment).
    var rowStyle: ((Int, String) -> String)? = nil

    init(_ header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func format(_ cells: [String]) -> String {
            var line = ""
            for (i, cell) in cells.enumerated() {
                let last = i == cells.count - 1
                line += last ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
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
