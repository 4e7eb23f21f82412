import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logbook
import NIOCore
@testable import LogbookServer
import Testing

/// docs/service.md, "Retries and event ids", over HTTP: one test per row of its table.
extension ServerTests {
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    @Test func aRetriedAppendIsAnswered200WithTheFirstSeqsAndTheReplayHeader() async throws {
        try await withServer { client, logbook in
            let body = #"[{"type":"started","node":"n1","attempt":1,"id":"0f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"},{"type":"progress","index":1,"id":"1f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"}]"#
            let (first, firstHeaders, firstBody) = try await request(client, .post, "/jobs/j/events", body: body)
            #expect(first == .created && firstHeaders[Self.replayed] == nil)
            #expect(firstBody.hasPrefix(#"{"seqs":[1,2],"#))
            _ = try await logbook.append(Event(job: "j", type: .cancelled))
            let (retry, retryHeaders, retryBody) = try await request(client, .post, "/jobs/j/events", body: body)
            #expect(retry == .ok && retryHeaders[Self.replayed] == "true")
            #expect(retryBody.hasPrefix(#"{"seqs":[1,2],"#) && retryBody.contains(#""status":"cancelled""#), "the job's state now: \(retryBody)")
            #expect(try logbook.maintenance.lastSeq() == 3)
            // The batch route too, and the id in the stored event's JSON.
            let batch = #"{"job":"k","type":"created","id":"2f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"}"#
            let stored = try await request(client, .post, "/events", body: batch).0
            #expect(stored == .created)
            let (again, againHeaders, _) = try await request(client, .post, "/events", body: batch)
            #expect(again == .ok && againHeaders[Self.replayed] == "true")
            let (_, _, timeline) = try await request(client, .get, "/jobs/k/timeline")
            #expect(timeline.contains(#""type":"created","id":"2f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60""#), "\(timeline)")
        }
    }

    @Test func aRetryIsNotCheckedAgainstIfMatch() async throws {
        try await withServer { client, _ in
            var headers = HTTPFields()
            headers[.ifMatch] = "0"
            let body = #"{"type":"created","id":"3f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"}"#
            let created = try await request(client, .post, "/jobs/g/events", headers: headers, body: body).0
            #expect(created == .created)
            let replayed = try await request(client, .post, "/jobs/g/events", headers: headers, body: body).0
            #expect(replayed == .ok)
        }
    }

    @Test func anIdReusedOrMixedIsRefused409NamingItAndNothingIsStored() async throws {
        try await withServer { client, logbook in
            let id = "4f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"
            let first = try await request(client, .post, "/jobs/a/events", body: #"{"type":"created","id":"\#(id)"}"#).0
            #expect(first == .created)
            let (other, _, otherBody) = try await request(client, .post, "/jobs/b/events", body: #"{"type":"created","id":"\#(id)"}"#)
            #expect(other == .conflict && otherBody.contains(#""id":"\#(id)""#) && otherBody.contains("another event"), "\(otherBody)")
            let mixed = #"[{"type":"created","id":"\#(id)"},{"type":"heartbeat","id":"5f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"}]"#
            let (mixedStatus, _, mixedBody) = try await request(client, .post, "/jobs/a/events", body: mixed)
            #expect(mixedStatus == .conflict && mixedBody.contains("must repeat its batch exactly"), "\(mixedBody)")
            #expect(try logbook.maintenance.lastSeq() == 1)
        }
    }

    /// A malformed id is a 400 naming the field; one repeated within a batch is an id conflict (409).
    @Test func aMalformedIdIsA400AndARepeatedOneA409() async throws {
        try await withServer { client, logbook in
            let (bad, _, badBody) = try await request(client, .post, "/jobs/a/events", body: #"{"type":"created","id":"not-a-uuid"}"#)
            #expect(bad == .badRequest && badBody.contains(#"field \"id\": not a UUID"#), "\(badBody)")
            let (number, _, _) = try await request(client, .post, "/jobs/a/events", body: #"{"type":"created","id":5}"#)
            #expect(number == .badRequest)
            let twice = #"[{"type":"created","id":"6f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"},{"type":"heartbeat","id":"6f8b2c1e-6a4d-4c1b-9a52-3e7d9f1a2b60"}]"#
            let (repeated, _, repeatedBody) = try await request(client, .post, "/jobs/a/events", body: twice)
            #expect(repeated == .conflict && repeatedBody.contains("repeats the id of event 1"), "\(repeatedBody)")
            #expect(try logbook.maintenance.lastSeq() == 0)
        }
    }
}

extension ServerTests {
    /// A stored `data` object may hold line breaks (JSON whitespace, kept byte for byte): the event
    /// stream writes each line as its own `data:` line, so the frame stays one frame and a client
    /// that joins them (the SSE rules) reads the stored JSON. Before, the frame ended at the first
    /// line break and a client read broken JSON.
    @Test func aDataObjectWithLineBreaksStaysOneEventStreamFrame() async throws {
        try await withServer { client, _ in
            let (status, _, _) = try await request(client, .post, "/jobs/j/events", body: "{\"type\":\"created\",\"data\":{\n  \"k\": [1,\r\n 2]\n}}")
            #expect(status == .created)
            let (_, _, body) = try await request(client, .get, "/events?limit=1")
            let lines = body.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.allSatisfy { $0.hasPrefix("id: ") || $0.hasPrefix("event: ") || $0.hasPrefix("data: ") }, "\(body)")
            let joined = lines.filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }.joined(separator: "\n")
            #expect(joined.hasSuffix(",\"data\":{\n  \"k\": [1,\n 2]\n}}"), "\(joined)")
            #expect((try? JSONSerialization.jsonObject(with: Data(joined.utf8))) != nil)
        }
    }
}
