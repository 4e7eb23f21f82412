import Journal
import Lifecycle

extension JobState {
    /// The job-state object of the CLI contract: every field always present (null when unset), in a
    /// fixed order, so output is byte-identical for equal states.
    public var json: String {
        var out = JSONBytes(capacity: 512)
        appendJSON(to: &out)
        return out.text
    }

    /// Writes `json` into `out`, straight into its bytes (the service answers every append with it).
    /// The same object as `jsonFields` spells field by field; a property test holds the two equal.
    public func appendJSON(to out: inout JSONBytes) {
        // Each writes a member's key (with its leading comma) and value.
        func time(_ key: StaticString, _ t: Timestamp?) {
            out.append(raw: key)
            guard let t else { return out.append(raw: "null") }
            out.append(raw: "\"")
            out.appendRFC3339(t)
            out.append(raw: "\"")
        }
        func text(_ key: StaticString, _ s: String?) {
            out.append(raw: key)
            guard let s else { return out.append(raw: "null") }
            out.appendQuoted(s)
        }
        func number(_ key: StaticString, _ v: UInt64?) {
            out.append(raw: key)
            guard let v else { return out.append(raw: "null") }
            out.appendDecimal(v)
        }
        text("{\"job\":", job)
        text(",\"status\":", status.name)
        out.append(raw: terminal ? ",\"terminal\":true" : ",\"terminal\":false")
        out.append(raw: finalized ? ",\"finalized\":true" : ",\"finalized\":false")
        if let c = finalizing {
            text(",\"finalizing\":{\"holder\":", c.holder)
            number(",\"seq\":", c.seq)
            time(",\"at\":", c.at)
            out.append(raw: "}")
        } else {
            out.append(raw: ",\"finalizing\":null")
        }
        out.append(raw: ",\"refs\":[")
        for (i, ref) in refs.enumerated() { text(i > 0 ? "," : "", ref) }
        number("],\"version\":", version)
        number(",\"attempt\":", UInt64(attempt))
        text(",\"node\":", node)
        time(",\"createdAt\":", createdAt)
        time(",\"attemptStartedAt\":", attemptStartedAt)
        time(",\"lastHeartbeatAt\":", lastHeartbeatAt)
        time(",\"lastProgressAt\":", lastProgressAt)
        number(",\"index\":", index)
        number(",\"decidedBy\":", decidedBy)
        text(",\"decidedReason\":", decidedReason)
        out.append(raw: ",\"anomalies\":[")
        for (i, a) in anomalies.enumerated() {
            number(i > 0 ? ",{\"seq\":" : "{\"seq\":", a.seq)
            text(",\"type\":", a.type.name)
            text(",\"message\":", a.message)
            out.append(raw: "}")
        }
        number("],\"anomalyCount\":", UInt64(clamping: anomalyCount))
        out.append(raw: "}")
    }

    /// The fields of `json`, in order, each with its JSON value.
    public var jsonFields: [(String, String)] {
        func time(_ t: Timestamp?) -> String { t.map { JSONText.quoted($0.rfc3339) } ?? "null" }
        func number<T: BinaryInteger>(_ v: T?) -> String { v.map { String($0) } ?? "null" }
        let anomalyList = anomalies.map { a in
            JSONText.object([
                ("seq", String(a.seq)), ("type", JSONText.quoted(a.type.name)), ("message", JSONText.quoted(a.message)),
            ])
        }
        return [
            ("job", JSONText.quoted(job)),
            ("status", JSONText.quoted(status.name)),
            ("terminal", terminal ? "true" : "false"),
            ("finalized", finalized ? "true" : "false"),
            ("finalizing", finalizing.map { c in
                JSONText.object([("holder", JSONText.quoted(c.holder)), ("seq", String(c.seq)), ("at", time(c.at))])
            } ?? "null"),
            ("refs", "[" + refs.map(JSONText.quoted).joined(separator: ",") + "]"),
            ("version", String(version)),
            ("attempt", String(attempt)),
            ("node", node.map(JSONText.quoted) ?? "null"),
            ("createdAt", time(createdAt)),
            ("attemptStartedAt", time(attemptStartedAt)),
            ("lastHeartbeatAt", time(lastHeartbeatAt)),
            ("lastProgressAt", time(lastProgressAt)),
            ("index", number(index)),
            ("decidedBy", number(decidedBy)),
            ("decidedReason", decidedReason.map(JSONText.quoted) ?? "null"),
            ("anomalies", "[" + anomalyList.joined(separator: ",") + "]"),
            ("anomalyCount", String(anomalyCount)),
        ]
    }

    /// The fields of `json` whose value differs from `previous`'s, without `job`, `version` (the
    /// event carries it) and `anomalies` (an entry carries its own reason): what one event changed.
    public func jsonChanges(since previous: JobState) -> [(String, String)] {
        let before = Dictionary(previous.jsonFields, uniquingKeysWith: { a, _ in a })
        return jsonFields.filter { key, value in
            key != "job" && key != "version" && key != "anomalies" && before[key] != value
        }
    }
}
