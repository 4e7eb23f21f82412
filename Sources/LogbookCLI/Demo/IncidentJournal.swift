/// The four incidents of docs/forensics.md as JSON Lines, in the order the systems would have
/// appended them. `logbook demo` ingests these; they are also a worked example of the ingest format.
enum IncidentJournal {
    /// "Now" for the demo's silent / stalled queries.
    static let now = "2026-06-02T09:00:00Z"

    struct Incident {
        var job: String
        var title: String
        var story: String
    }

    static let incidents = [
        Incident(
            job: "scan-3", title: "The cancelled scan that came back (media scanner, seed 000)",
            story: "The user cancelled; the scan loop never heard it; shutdown overwrote the row to 'interrupted'; restart resumed it; the second cancel matched no rows."),
        Incident(
            job: "task-42", title: "The finished task that kept its slot (HA task runner, seed 001)",
            story: "node-a reported completion while node-b's reconciler failed the task as 'runner lost'; the lock winner saw a terminal row and skipped finalization, leaking the concurrency slot."),
        Incident(
            job: "crawl-hc-6", title: "The stall no watchdog saw (web-archive crawler, seed 002)",
            story: "The watchdog read the previous attempt's log, whose progress looked recent, so a 20-hour stall of the new attempt went unnoticed."),
        Incident(
            job: "download-7", title: "The download one cancel killed for everyone (download manager, seed 003)",
            story: "Two users wanted the same download; one cancel killed it for both; meanwhile a hung worker never timed out."),
    ]

    static let lines = #"""
        {"job":"scan-3","type":"created","at":"2026-06-01T08:00:00Z","node":"osiris","data":{"path":"/media/Movies/HD/","files":7214}}
        {"job":"scan-3","type":"started","at":"2026-06-01T08:00:02Z","node":"osiris","attempt":1}
        {"job":"scan-3","type":"progress","at":"2026-06-01T08:20:00Z","index":1200,"attempt":1}
        {"job":"scan-3","type":"cancelled","at":"2026-06-01T08:21:13Z","reason":"cancelled by user","data":{"ui":"cancel button","dbId":3}}
        {"job":"scan-3","type":"progress","at":"2026-06-01T08:30:00Z","index":1650,"attempt":1}
        {"job":"scan-3","type":"interrupted","at":"2026-06-01T09:02:40Z","reason":"shutdown","index":2210,"attempt":1}
        {"job":"scan-3","type":"resumed","at":"2026-06-01T09:05:11Z","node":"sokaris","attempt":2}
        {"job":"scan-3","type":"cancelled","at":"2026-06-01T09:40:00Z","reason":"cancelled by user"}
        {"job":"task-42","type":"created","at":"2026-06-01T10:00:00Z","data":{"queue":"ci","slot":"runner-pool-1"}}
        {"job":"task-42","type":"started","at":"2026-06-01T10:00:05Z","node":"node-a","attempt":1}
        {"job":"task-42","type":"heartbeat","at":"2026-06-01T10:05:05Z","attempt":1}
        {"job":"task-42","type":"completed","at":"2026-06-01T10:09:58Z","node":"node-a","attempt":1,"reason":"exit 0"}
        {"job":"task-42","type":"failed","at":"2026-06-01T10:09:59Z","node":"node-b","reason":"runner lost"}
        {"job":"crawl-hc-6","type":"created","at":"2026-06-01T00:00:00Z","data":{"seeds":"hc","year":2026}}
        {"job":"crawl-hc-6","type":"started","at":"2026-06-01T00:00:10Z","node":"vps","attempt":1}
        {"job":"crawl-hc-6","type":"progress","at":"2026-06-01T06:07:24Z","index":299,"attempt":1}
        {"job":"crawl-hc-6","type":"interrupted","at":"2026-06-01T06:30:00Z","reason":"worker restart","attempt":1}
        {"job":"crawl-hc-6","type":"resumed","at":"2026-06-01T06:31:00Z","node":"vps","attempt":2}
        {"job":"crawl-hc-6","type":"progress","at":"2026-06-01T07:40:00Z","index":300,"attempt":1}
        {"job":"crawl-hc-6","type":"heartbeat","at":"2026-06-01T12:31:00Z","attempt":2}
        {"job":"crawl-hc-6","type":"heartbeat","at":"2026-06-01T18:31:00Z","attempt":2}
        {"job":"crawl-hc-6","type":"heartbeat","at":"2026-06-02T00:31:00Z","attempt":2}
        {"job":"crawl-hc-6","type":"heartbeat","at":"2026-06-02T06:31:00Z","attempt":2}
        {"job":"crawl-hc-6","type":"heartbeat","at":"2026-06-02T08:55:00Z","attempt":2}
        {"job":"download-7","type":"created","at":"2026-06-02T08:00:00Z","data":{"url":"https://example.org/talk.mp4"}}
        {"job":"download-7","type":"refAcquired","at":"2026-06-02T08:00:01Z","holder":"alice"}
        {"job":"download-7","type":"refAcquired","at":"2026-06-02T08:00:30Z","holder":"bob"}
        {"job":"download-7","type":"refAcquired","at":"2026-06-02T08:00:31Z","holder":"alice"}
        {"job":"download-7","type":"started","at":"2026-06-02T08:01:00Z","node":"worker-1","attempt":1}
        {"job":"download-7","type":"progress","at":"2026-06-02T08:02:00Z","index":52428800,"attempt":1}
        {"job":"download-7","type":"heartbeat","at":"2026-06-02T08:03:00Z","attempt":1}
        {"job":"download-7","type":"refReleased","at":"2026-06-02T08:30:00Z","holder":"alice","reason":"user cancelled"}
        {"job":"download-7","type":"refReleased","at":"2026-06-02T08:31:00Z","holder":"carol","reason":"user cancelled"}
        """#
}
