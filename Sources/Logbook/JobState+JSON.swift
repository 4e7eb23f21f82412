import Lifecycle

extension JobState {
    /// The job-state object of the CLI contract: every field always present (null when unset), in a
    /// fixed order, so output is byte-identical for equal states.
    public var json: String { JSONText.object(jsonFields.map { ($0.0, $0.1) }) }

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
