import Logbook
import Prometheus
import Synchronization

/// The service's Prometheus metrics. Counters are fed as events commit; gauges are read from the
/// projections at scrape time.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let appended: [EventType: Counter]
    private let appendLatency: DurationHistogram
    private let groupSizes: ValueHistogram
    private let jobsByStatus: [JobStatus: Gauge]
    private let anomalies: Gauge
    private let lastSeq: Gauge
    private let slowFollowers: Counter
    private let sharedLogUp: Gauge
    private let followerLag: Gauge
    private let followerApplied: Gauge
    private let sharedLogCommits: Gauge
    private let sharedLogPlacedCommits: Gauge
    private let failovers: Gauge
    private let lastFailover: Gauge
    /// One gauge per shared-log member: 1 for the primary, 0 for the others.
    private let primary = Mutex<[String: Gauge]>([:])
    private let storageErrors = Mutex<[String: Counter]>([:])
    private let freeBytes: Gauge
    private let pruned: Counter
    private let archived: Counter
    private let retentionLastRun: Gauge
    private let retentionDuration: Gauge

    public init() {
        var appended: [EventType: Counter] = [:]
        for type in EventType.allCases {
            appended[type] = registry.makeCounter(
                descriptor: Self.metric("events_appended", unit: "total", help: "Events appended, by type"),
                labels: [("type", type.name)])
        }
        self.appended = appended
        appendLatency = registry.makeDurationHistogram(
            descriptor: Self.metric(
                "append_duration", unit: "seconds",
                help: "Time from receiving an append request to its events being durable"),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .seconds(1)])
        groupSizes = registry.makeValueHistogram(
            descriptor: Self.metric("group_commit", unit: "events", help: "Events per group commit (one transaction, one fsync)"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 10_000])
        var jobs: [JobStatus: Gauge] = [:]
        for status in JobStatus.allCases {
            jobs[status] = registry.makeGauge(
                descriptor: Self.metric("jobs", unit: "", help: "Jobs by status"), labels: [("status", status.name)])
        }
        jobsByStatus = jobs
        anomalies = registry.makeGauge(
            descriptor: Self.metric("anomalies", unit: "", help: "Events the fold ignored, all jobs"))
        lastSeq = registry.makeGauge(
            descriptor: Self.metric("last", unit: "seq", help: "The last seq folded into the projections"))
        slowFollowers = registry.makeCounter(
            descriptor: Self.metric(
                "sse_followers_disconnected", unit: "total",
                help: "SSE clients disconnected for falling too far behind (they resume with Last-Event-ID)"))
        sharedLogUp = registry.makeGauge(
            descriptor: Self.metric("shared_log_up", unit: "", help: "1 while the shared log (PostgreSQL) answers this node's follower; absent without one"))
        followerLag = registry.makeGauge(
            descriptor: Self.metric(
                "follower_lag", unit: "seconds",
                help: "Time from an event's acceptance by any node to its application to this node's replica (last batch applied)"))
        followerApplied = registry.makeGauge(
            descriptor: Self.metric("follower_applied", unit: "events", help: "Events this node's follower applied since it started"))
        sharedLogCommits = registry.makeGauge(
            descriptor: Self.metric("shared_log_commits", unit: "", help: "Groups this node committed to the shared log since it started"))
        sharedLogPlacedCommits = registry.makeGauge(
            descriptor: Self.metric(
                "shared_log_placed_commits", unit: "",
                help: "Commits of this node whose answer placed their rows, applied without reading them back"))
        failovers = registry.makeGauge(
            descriptor: Self.metric(
                "shared_log_failovers", unit: "", help: "Times this node found another PostgreSQL member to be the primary since it started"))
        freeBytes = registry.makeGauge(
            descriptor: Self.metric("storage_free", unit: "bytes", help: "Bytes still free on the filesystem holding the journal"))
        pruned = registry.makeCounter(
            descriptor: Self.metric(
                "pruned_events", unit: "total",
                help: "Events retention removed since the service started (superseded heartbeats and archived jobs' events)"))
        archived = registry.makeCounter(
            descriptor: Self.metric("archived_jobs", unit: "total", help: "Jobs retention archived since the service started"))
        retentionLastRun = registry.makeGauge(
            descriptor: Self.metric("retention_last_run", unit: "timestamp_seconds", help: "When retention last ran (0: not yet)"))
        retentionDuration = registry.makeGauge(
            descriptor: Self.metric("retention_last_run_duration", unit: "seconds", help: "How long retention's last run took"))
        lastFailover = registry.makeGauge(
            descriptor: Self.metric(
                "shared_log_last_failover", unit: "timestamp_seconds", help: "When this node last found a new primary (0: never)"))
    }

    /// `logbook_<name>_<unit>` (no unit: `logbook_<name>`).
    private static func metric(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "logbook", metricName: name, unitName: unit, helpText: help)
    }

    /// Starts counting what `logbook` commits.
    public func observe(_ logbook: Logbook) {
        logbook.maintenance.observeCommits { [appended] events in
            for e in events { appended[e.event.type]?.increment() }
        }
        logbook.maintenance.observeGroupCommits { [groupSizes] n in groupSizes.record(Double(n)) }
    }

    func recordAppend(_ duration: Duration) { appendLatency.record(duration) }

    func recordSlowFollowerDisconnected() { slowFollowers.increment() }

    /// A run of retention: what it removed, when, how long it took.
    func recordRetention(at: Timestamp, milliseconds: Double, removed: Int, archivedJobs: Int = 0) {
        pruned.increment(by: Int64(removed))
        archived.increment(by: Int64(archivedJobs))
        retentionLastRun.set(to: Double(at.microseconds) / 1_000_000)
        retentionDuration.set(to: milliseconds / 1_000)
    }

    /// Counts a write refused by the storage, by kind (`full`: the journal's filesystem).
    func recordStorageError(kind: String) {
        let counter = storageErrors.withLock { counters in
            if let c = counters[kind] { return c }
            let c = registry.makeCounter(
                descriptor: Self.metric("storage_errors", unit: "total", help: "Appends refused by the journal's storage, by kind"),
                labels: [("kind", kind)])
            counters[kind] = c
            return c
        }
        counter.increment()
    }

    /// The exposition text, with gauges refreshed from the projections.
    public func render(_ logbook: Logbook) -> String {
        let projections = logbook.currentProjections
        let counts = projections.statusCounts
        for (status, gauge) in jobsByStatus { gauge.set(to: Double(counts[status] ?? 0)) }
        anomalies.set(to: Double(projections.anomalyTotal))
        lastSeq.set(to: Double(projections.coveredSeq))
        if let free = logbook.maintenance.freeBytes() { freeBytes.set(to: Double(free)) }

        if let follower = logbook.maintenance.followerStatus() {
            sharedLogUp.set(to: follower.reachable ? 1 : 0)
            followerLag.set(to: follower.lagMilliseconds / 1000)
            followerApplied.set(to: Double(follower.applied))
            sharedLogCommits.set(to: Double(follower.commits))
            sharedLogPlacedCommits.set(to: Double(follower.placedCommits))
            let topology = follower.topology
            failovers.set(to: Double(topology.failovers))
            lastFailover.set(to: topology.lastFailover.map { Double($0.at.microseconds) / 1_000_000 } ?? 0)
            primary.withLock { gauges in
                for member in topology.members {
                    let gauge = gauges[member] ?? registry.makeGauge(
                        descriptor: Self.metric("shared_log_primary", unit: "", help: "1 for the shared-log member this node writes to, 0 for the others"),
                        labels: [("member", member)])
                    gauges[member] = gauge
                    gauge.set(to: member == topology.primary ? 1 : 0)
                }
            }
        }
        return registry.emitToString()
    }
}
