import Hummingbird
import Lifecycle
import Logbook

/// The bodies the service builds itself, one type per shape (docs/openapi.yaml names each schema):
/// each writes its fields in the schema's order straight into bytes, with the same writer as the
/// event and job-state encodings it embeds, so no body is assembled from strings.
protocol ResponseShape {
    func write(to out: inout JSONBytes)
}

extension ResponseShape {
    func response(_ status: HTTPResponse.Status) -> Response {
        var out = JSONBytes(capacity: 512)
        write(to: &out)
        out.append(raw: "\n")
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return out.withUnsafeBytes { Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: $0))) }
    }
}

/// `AppendAnswer` (201): the seqs the batch got, and the job's state after it (`state`, on
/// `/jobs/{id}/events`) or each job's, in the order the jobs first appear in the batch (`states`,
/// on `/events`).
struct AppendAnswer: ResponseShape {
    var seqs: [UInt64]
    var states: [JobState]
    /// Whether the batch named its job in the path: one `state` rather than `states`.
    var oneJob: Bool

    func write(to out: inout JSONBytes) {
        out.append(raw: "{\"seqs\":[")
        for (i, seq) in seqs.enumerated() {
            if i > 0 { out.append(raw: ",") }
            out.appendDecimal(seq)
        }
        if oneJob, let state = states.first {
            out.append(raw: "],\"state\":")
            state.appendJSON(to: &out)
        } else {
            out.append(raw: "],\"states\":[")
            for (i, state) in states.enumerated() {
                if i > 0 { out.append(raw: ",") }
                state.appendJSON(to: &out)
            }
            out.append(raw: "]")
        }
        out.append(raw: "}")
    }
}

/// `Health` (`/healthz`): serving, degraded (appends refused for want of space: `reason` says
/// why) or stopped (the follower stopped for good, or a write failed at the device: `reason` says
/// which), the last seq folded in, and with `--postgres` the follower's view of the shared log
/// (every member present, null when unknown).
struct Health: ResponseShape {
    var stopped: Bool
    var lastSeq: UInt64
    /// Why appends are refused, while the journal's filesystem is full.
    var storageFull: String?
    /// Why appends are refused until a restart, after a write failed at the device.
    var writesStopped: String?
    var follower: Logbook.FollowerStatus?
    /// With `--drop-superseded-heartbeats-every` or `--archive-every`: what retention did last.
    var retention: RetentionStatus?

    var isStopped: Bool { stopped || writesStopped != nil }

    func write(to out: inout JSONBytes) {
        out.append(raw: isStopped ? "{\"status\":\"stopped\"" : storageFull != nil ? "{\"status\":\"degraded\"" : "{\"status\":\"ok\"")
        if let reason = writesStopped ?? storageFull {
            out.append(raw: ",\"reason\":")
            out.appendQuoted(reason)
        }
        out.append(raw: ",\"lastSeq\":")
        out.appendDecimal(lastSeq)
        if let retention, retention.archives {
            let run = retention.lastArchive
            Self.writeRun(named: "archive", at: run?.at, milliseconds: run?.milliseconds, error: run?.error, to: &out) { out in
                out.append(raw: ",\"jobs\":")
                out.appendDecimal(UInt64(run?.jobs ?? 0))
                out.append(raw: ",\"events\":")
                out.appendDecimal(UInt64(run?.events ?? 0))
                out.append(raw: ",\"bundle\":")
                Self.write(run?.bundle, to: &out)
                out.append(raw: ",\"archivedTotal\":")
                out.appendDecimal(UInt64(retention.archivedJobs))
            }
        }
        if let retention, retention.drops {
            let run = retention.lastRun
            Self.writeRun(named: "retention", at: run?.at, milliseconds: run?.milliseconds, error: run?.error, to: &out) { out in
                out.append(raw: ",\"dropped\":")
                out.appendDecimal(UInt64(run?.dropped ?? 0))
                out.append(raw: ",\"prunedTotal\":")
                out.appendDecimal(UInt64(retention.pruned))
            }
        }
        if let follower {
            out.append(raw: follower.reachable ? ",\"sharedLog\":{\"reachable\":true" : ",\"sharedLog\":{\"reachable\":false")
            out.append(raw: ",\"lagMilliseconds\":")
            out.appendDecimal(UInt64(max(0, follower.lagMilliseconds.rounded())))
            out.append(raw: ",\"applied\":")
            out.appendDecimal(UInt64(follower.applied))
            out.append(raw: ",\"error\":")
            Self.write(follower.lastError, to: &out)
            out.append(raw: ",\"members\":[")
            for (i, member) in follower.topology.members.enumerated() {
                if i > 0 { out.append(raw: ",") }
                out.appendQuoted(member)
            }
            out.append(raw: "],\"primary\":")
            Self.write(follower.topology.primary, to: &out)
            out.append(raw: ",\"failovers\":")
            out.appendDecimal(UInt64(follower.topology.failovers))
            out.append(raw: ",\"lastFailover\":")
            if let f = follower.topology.lastFailover {
                out.append(raw: "{\"at\":\"")
                out.appendRFC3339(f.at)
                out.append(raw: "\",\"from\":")
                out.appendQuoted(f.from)
                out.append(raw: ",\"to\":")
                out.appendQuoted(f.to)
                out.append(raw: "}")
            } else {
                out.append(raw: "null")
            }
            out.append(raw: "}")
        }
        out.append(raw: "}")
    }

    /// `,"NAME":{"lastRun":…,"durationMilliseconds":…` then `fields`, then `"error":…}`.
    private static func writeRun(
        named name: String, at: Timestamp?, milliseconds: Double?, error: String?, to out: inout JSONBytes,
        _ fields: (inout JSONBytes) -> Void
    ) {
        out.append(raw: ",")
        out.appendQuoted(name)
        out.append(raw: ":{\"lastRun\":")
        if let at { out.appendQuoted(at.rfc3339) } else { out.append(raw: "null") }
        out.append(raw: ",\"durationMilliseconds\":")
        out.appendDecimal(UInt64(max(0, (milliseconds ?? 0).rounded())))
        fields(&out)
        out.append(raw: ",\"error\":")
        write(error, to: &out)
        out.append(raw: "}")
    }

    private static func write(_ text: String?, to out: inout JSONBytes) {
        if let text { out.appendQuoted(text) } else { out.append(raw: "null") }
    }
}
