import Hummingbird
import Lifecycle
import Logbook

/// JSON bodies of the service's responses (field order fixed, like the CLI's).
enum JSONResponses {
    static func response(_ status: HTTPResponse.Status, _ json: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json + "\n")))
    }

    static func error(
        _ status: HTTPResponse.Status, _ message: String, extra: [(String, String?)] = [], headers: HTTPFields = [:]
    ) -> Response {
        response(status, JSONText.object([("error", JSONText.quoted(message))] + extra), headers: headers)
    }

    static func event(_ e: RecordedEvent) -> String { e.json }
}
