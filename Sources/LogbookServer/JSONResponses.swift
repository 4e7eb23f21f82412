import Hummingbird
import Logbook

/// JSON bodies of the service's responses (field order fixed, like the CLI's).
enum JSONResponses {
    static func response(_ status: HTTPResponse.Status, _ json: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json + "\n")))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, extra: [(String, String?)] = []) -> Response {
        response(status, JSONText.object([("error", JSONText.quoted(message))] + extra))
    }

    static func event(_ e: RecordedEvent) -> String {
        let ev = e.event
        return JSONText.object([
            ("seq", String(e.seq)),
            ("version", String(e.version)),
            ("job", JSONText.quoted(ev.job)),
            ("type", JSONText.quoted(ev.type.name)),
            ("at", JSONText.quoted(e.at.rfc3339)),
            ("appendedAt", JSONText.quoted(e.appendedAt.rfc3339)),
            ("node", ev.node.map(JSONText.quoted)),
            ("holder", ev.holder.map(JSONText.quoted)),
            ("reason", ev.reason.map(JSONText.quoted)),
            ("index", ev.index.map { String($0) }),
            ("attempt", ev.attempt.map { String($0) }),
            ("data", ev.data),
        ])
    }

    static func timeline(_ entry: TimelineEntry) -> String {
        JSONText.object([
            ("event", event(entry.event)),
            ("anomaly", entry.anomaly.map { JSONText.quoted($0.message) } ?? "null"),
            ("state", entry.stateAfter.json),
        ])
    }
}
