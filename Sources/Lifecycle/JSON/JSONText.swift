/// Writing JSON text: string quoting shared by every encoder in Logbook.
public enum JSONText {
    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        var out = JSONBytes(capacity: value.utf8.count + 2)
        out.appendQuoted(value)
        return out.text
    }

    /// `"key":value` pairs joined into an object; `nil` values are left out.
    public static func object(_ members: [(String, String?)]) -> String {
        var out = "{"
        var first = true
        for (key, value) in members {
            guard let value else { continue }
            if !first { out += "," }
            first = false
            out += quoted(key) + ":" + value
        }
        return out + "}"
    }
}
