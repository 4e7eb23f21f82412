import Journal
import Lifecycle

extension RecordedEvent {
    /// The one JSON encoding of a stored event, shared by the service (`/events`, timelines), `replay
    /// --json` and, less the three fields the journal assigns, `export`: `seq`, `version`, `job`,
    /// `type`, `id` (when the client gave one), `at`, `appendedAt`, then `node`, `holder`, `reason`, `index`, `attempt`, `data`, each
    /// left out when the event has none (never null). `ingest` reads it back: it ignores `seq`,
    /// `version` and `appendedAt`, which the journal assigns anew.
    public var json: String {
        let ev = event
        return JSONText.object([
            ("seq", String(seq)),
            ("version", String(version)),
            ("job", JSONText.quoted(ev.job)),
            ("type", JSONText.quoted(ev.type.name)),
            ("id", ev.id.map { JSONText.quoted($0.description) }),
            ("at", JSONText.quoted(at.rfc3339)),
            ("appendedAt", JSONText.quoted(appendedAt.rfc3339)),
            ("node", ev.node.map(JSONText.quoted)),
            ("holder", ev.holder.map(JSONText.quoted)),
            ("reason", ev.reason.map(JSONText.quoted)),
            ("index", ev.index.map { String($0) }),
            ("attempt", ev.attempt.map { String($0) }),
            ("data", ev.data),
        ])
    }
}

extension TimelineEntry {
    /// One entry of a job's history as JSON, the same in `replay --json` and the service's
    /// `GET /jobs/{id}/timeline`: the stored event, what the fold did (`effect`: `applied` or
    /// `ignored`, with the fold's `reason` when ignored, left out otherwise), and `changes`, only the
    /// job-state fields this event changed (`status`, `attempt`, `lastHeartbeatAt`, `anomalyCount`, …),
    /// against `previous`, the state before it (a new, pending state for the job's first event).
    public func json(previous: JobState) -> String {
        JSONText.object([
            ("event", event.json),
            ("effect", JSONText.quoted(anomaly == nil ? "applied" : "ignored")),
            ("reason", anomaly.map { JSONText.quoted($0.message) }),
            ("changes", JSONText.object(stateAfter.jsonChanges(since: previous).map { ($0.0, $0.1) })),
        ])
    }
}

extension Array where Element == TimelineEntry {
    /// Each entry's JSON (see `TimelineEntry.json(previous:)`), from the state before `self[0]`.
    public func jsonEntries(startingFrom before: JobState) -> [String] {
        var previous = before
        return map { entry in
            defer { previous = entry.stateAfter }
            return entry.json(previous: previous)
        }
    }
}
