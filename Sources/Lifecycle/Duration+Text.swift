extension Duration {
    /// Parses the duration form Logbook's CLI and service accept: a whole number and a unit,
    /// `ms`, `s`, `m`, `h` or `d` (`90s`, `30m`, `1h`, `2d`), or several in a row (`1h30m`).
    public init?(logbookText text: String) {
        var total: Int64 = 0
        var number: Int64? = nil
        var chars = Array(text.utf8)[...]
        guard !chars.isEmpty else { return nil }
        while let c = chars.first {
            if c >= 48, c <= 57 {
                let (m, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (v, o2) = m.addingReportingOverflow(Int64(c - 48))
                guard !o1, !o2 else { return nil }
                number = v
                chars.removeFirst()
                continue
            }
            guard let n = number else { return nil }
            let unit: Int64
            if chars.starts(with: "ms".utf8) {
                unit = 1_000; chars.removeFirst(2)
            } else {
                switch c {
                case UInt8(ascii: "s"): unit = 1_000_000
                case UInt8(ascii: "m"): unit = 60_000_000
                case UInt8(ascii: "h"): unit = 3_600_000_000
                case UInt8(ascii: "d"): unit = 86_400_000_000
                default: return nil
                }
                chars.removeFirst()
            }
            let (part, o1) = n.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(part)
            guard !o1, !o2 else { return nil }
            total = sum
            number = nil
        }
        guard number == nil else { return nil }  // a trailing number without a unit
        self = .microseconds(total)
    }

    /// Whole microseconds (what Logbook's clocks count in).
    /// Saturates at Int64's range (a duration of more than ±292,000 years).
    public var wholeMicroseconds: Int64 {
        let (s, a) = components
        let (m, o1) = s.multipliedReportingOverflow(by: 1_000_000)
        let (sum, o2) = m.addingReportingOverflow(a / 1_000_000_000_000)
        return o1 || o2 ? (s < 0 ? .min : .max) : sum
    }
}
