/// What the fold knows about one job after some prefix of its events.
public struct JobState: Sendable, Hashable {
    /// At most this many anomalies are kept in the state (the first ones); `anomalyCount` counts all.
    /// The full list is always available from the job's history.
    public static let anomalyLimit = 100

    public var job: String
    public var status: JobStatus = .pending
    /// Terminal side effects ran (slots released, children notified).
    public var finalized = false
    /// The latest drainer's claim on the terminal side effects (`finalizing`), if any.
    public var finalizing: FinalizationClaim? {
        get { claimBox?.claim }
        set { claimBox = newValue.map(ClaimBox.init) }
    }
    /// Boxed: few jobs ever carry a claim, and the projections hold one state per job (8 bytes
    /// here instead of 32 inline).
    private var claimBox: ClaimBox?
    /// Holders with a live reference, sorted.
    public var refs: [String] = []
    /// Events ever appended to the job, anomalies included (the version of its last event).
    public var version: UInt64 = 0
    /// The current attempt number; 0 before the first start.
    public var attempt: UInt32 = 0
    /// The current attempt's node.
    public var node: String?
    public var createdAt: Timestamp?
    public var attemptStartedAt: Timestamp?
    /// Last heartbeat of the current attempt (nil when the attempt has sent none).
    public var lastHeartbeatAt: Timestamp?
    /// Last progress of the current attempt.
    public var lastProgressAt: Timestamp?
    /// The last progress position reported.
    public var index: UInt64?
    /// Seq of the event that decided the terminal status.
    public var decidedBy: UInt64?
    /// The reason given by the deciding event (`lastRefReleased` when the last ref went away).
    public var decidedReason: String?
    public var anomalies: [Anomaly] = []
    public var anomalyCount = 0

    public init(job: String) { self.job = job }

    /// Byte equality of ids and texts (see `ExactID`); the synthesized hash stays consistent with it.
    public static func == (a: JobState, b: JobState) -> Bool {
        a.job.hasSameBytes(as: b.job) && a.status == b.status && a.finalized == b.finalized
            && a.finalizing == b.finalizing
            && a.refs.count == b.refs.count && zip(a.refs, b.refs).allSatisfy { $0.hasSameBytes(as: $1) }
            && a.version == b.version && a.attempt == b.attempt && a.node.hasSameBytes(as: b.node)
            && a.createdAt == b.createdAt && a.attemptStartedAt == b.attemptStartedAt
            && a.lastHeartbeatAt == b.lastHeartbeatAt && a.lastProgressAt == b.lastProgressAt && a.index == b.index
            && a.decidedBy == b.decidedBy && a.decidedReason.hasSameBytes(as: b.decidedReason)
            && a.anomalies == b.anomalies && a.anomalyCount == b.anomalyCount
    }

    public var terminal: Bool { status.isTerminal }

    /// The latest sign of life in the current attempt: start, heartbeat or progress.
    public var lastSignOfLife: Timestamp? {
        [attemptStartedAt, lastHeartbeatAt, lastProgressAt].compactMap { $0 }.max()
    }

    /// The latest sign of progress in the current attempt: start or progress (heartbeats do not count).
    public var lastSignOfProgress: Timestamp? {
        [attemptStartedAt, lastProgressAt].compactMap { $0 }.max()
    }

    /// Terminal but its side effects not yet run: the outbox any node may drain.
    public var awaitsFinalization: Bool { terminal && !finalized }
}

/// A drainer's claim on a terminal job's side effects: who, by which event, when. A drainer takes
/// over a claim older than its lease (the claimer died mid-effect); the fold only records the latest.
public struct FinalizationClaim: Sendable, Hashable {
    public var holder: String
    /// Seq of the `finalizing` event.
    public var seq: UInt64
    public var at: Timestamp

    public init(holder: String, seq: UInt64, at: Timestamp) {
        self.holder = holder
        self.seq = seq
        self.at = at
    }

    public static func == (a: FinalizationClaim, b: FinalizationClaim) -> Bool {
        a.holder.hasSameBytes(as: b.holder) && a.seq == b.seq && a.at == b.at
    }
}

/// An immutable box for the rare claim (see `JobState.finalizing`); compared and hashed by value.
final class ClaimBox: Sendable, Hashable {
    let claim: FinalizationClaim
    init(_ claim: FinalizationClaim) { self.claim = claim }
    static func == (a: ClaimBox, b: ClaimBox) -> Bool { a.claim == b.claim }
    func hash(into hasher: inout Hasher) { hasher.combine(claim) }
}
