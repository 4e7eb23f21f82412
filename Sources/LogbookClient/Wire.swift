import Foundation
import Lifecycle
import OpenAPIRuntime

/// Logbook's values to and from the generated client's types (docs/openapi.yaml), in one place.
enum Wire {
    /// An event to append, with its job (`POST /events`); `withoutJob` for `POST /jobs/{id}/events`.
    static func input(_ event: Event) throws -> Components.Schemas.JobEventInput {
        guard let type = Components.Schemas.EventType(rawValue: event.type.name) else {
            throw RemoteLogbookError.unreadable("event type \(event.type.name) is not in the API")
        }
        return Components.Schemas.JobEventInput(
            job: event.job, _type: type, id: event.id?.description,
            at: event.at.map { Date(timeIntervalSince1970: Double($0.microseconds) / 1_000_000) }, node: event.node,
            holder: event.holder, reason: event.reason, index: event.index.map { Int(clamping: $0) },
            attempt: event.attempt.map { Int($0) }, data: try event.data.map(object))
    }

    /// A JSON object's text as the generated client's container (re-encoded on the wire: the
    /// service stores what it receives, so key order and number spelling may differ from the text).
    static func object(_ text: String) throws -> OpenAPIObjectContainer {
        do {
            return try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(text.utf8))
        } catch {
            throw RemoteLogbookError.refused(status: 400, message: "field \"data\": not a JSON object: \(error)")
        }
    }

    static func text(_ object: OpenAPIObjectContainer) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func time(_ text: String?, _ field: String) throws -> Timestamp? {
        guard let text else { return nil }
        guard let t = Timestamp(rfc3339: text) else { throw RemoteLogbookError.unreadable("\(field): not an RFC 3339 time: \(text)") }
        return t
    }

    static func state(_ s: Components.Schemas.JobState) throws -> JobState {
        var state = JobState(job: s.job)
        guard let status = JobStatus(name: s.status.rawValue) else { throw RemoteLogbookError.unreadable("status \(s.status.rawValue)") }
        state.status = status
        state.finalized = s.finalized
        if let f = s.finalizing, let at = try time(f.at, "finalizing.at") {
            state.finalizing = FinalizationClaim(holder: f.holder, seq: UInt64(f.seq), at: at)
        }
        state.refs = s.refs
        state.version = UInt64(s.version)
        state.attempt = UInt32(clamping: s.attempt)
        state.node = s.node
        state.createdAt = try time(s.createdAt, "createdAt")
        state.attemptStartedAt = try time(s.attemptStartedAt, "attemptStartedAt")
        state.lastHeartbeatAt = try time(s.lastHeartbeatAt, "lastHeartbeatAt")
        state.lastProgressAt = try time(s.lastProgressAt, "lastProgressAt")
        state.index = s.index.map { UInt64($0) }
        state.decidedBy = s.decidedBy.map { UInt64($0) }
        state.decidedReason = s.decidedReason
        state.anomalies = try s.anomalies.map { a in
            guard let type = EventType(name: a._type.rawValue) else { throw RemoteLogbookError.unreadable("anomaly type \(a._type.rawValue)") }
            return Anomaly(seq: UInt64(a.seq), type: type, message: a.message)
        }
        state.anomalyCount = s.anomalyCount
        return state
    }

    static func recorded(_ e: Components.Schemas.StoredEvent) throws -> RecordedEvent {
        guard let type = EventType(name: e._type.rawValue) else { throw RemoteLogbookError.unreadable("event type \(e._type.rawValue)") }
        guard let at = try time(e.at, "at"), let appendedAt = try time(e.appendedAt, "appendedAt") else {
            throw RemoteLogbookError.unreadable("an event without its times")
        }
        let id = try e.id.map { text in
            guard let id = EventID(uuid: text) else { throw RemoteLogbookError.unreadable("id \(text)") }
            return id
        }
        let event = Event(
            job: e.job, type: type, at: at, node: e.node, holder: e.holder, reason: e.reason, index: e.index.map { UInt64($0) },
            attempt: e.attempt.map { UInt32(clamping: $0) }, data: e.data.flatMap(text), id: id)
        return RecordedEvent(seq: UInt64(e.seq), version: UInt64(e.version), appendedAt: appendedAt, event: event)
    }

    /// Microseconds as the API's duration (`90s`, `1500ms`): the largest unit that divides it.
    static func duration(_ microseconds: Int64) -> String {
        let ms = max(0, microseconds / 1_000)
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] where ms % size == 0 && ms / size < 1_000_000 {
            return "\(ms / size)\(unit)"
        }
        return "\(min(ms, 999_999))ms"
    }
}

extension Components.Schemas.JobEventInput {
    /// The same event for `POST /jobs/{id}/events`, whose path names the job.
    var withoutJob: Components.Schemas.EventInput {
        Components.Schemas.EventInput(
            _type: _type, id: id, at: at, node: node, holder: holder, reason: reason, index: index, attempt: attempt, data: data)
    }
}
