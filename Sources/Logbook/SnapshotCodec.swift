import Journal
import Lifecycle

/// The binary form of a projection snapshot (docs/record-format.md, "Snapshots").
///
///     "LBSN" | u16 format | u16 reserved | u64 covered seq | u32 job count | job states… | u32 CRC32C
///
/// Little-endian; the CRC covers every byte before it. Decoding checks bounds everywhere, so a
/// damaged snapshot is reported, never trusted and never a crash.
extension Logbook {
    /// Decodes a projection snapshot (as `snapshot()` stores it); a damaged one is an error, never a crash.
    public static func decodeSnapshot(_ bytes: [UInt8]) throws -> Projections { try SnapshotCodec.decode(bytes) }

    /// Encodes `projections` as a snapshot.
    public static func encodeSnapshot(_ projections: Projections) -> [UInt8] { SnapshotCodec.encode(projections) }
}

enum SnapshotCodec {
    static let magic: [UInt8] = Array("LBSN".utf8)
    /// 2 adds the finalization claim after `finalized`; format 1 (no claims) still decodes.
    static let formatVersion: UInt16 = 2
    static let readableVersions: ClosedRange<UInt16> = 1...2

    enum Failure: Error, CustomStringConvertible {
        case damaged(String)
        case unknownFormat(Int)

        var description: String {
            switch self {
            case .damaged(let why): "snapshot is damaged: \(why)"
            case .unknownFormat(let v): "snapshot has unknown format version \(v)"
            }
        }
    }

    static func encode(_ projections: Projections) -> [UInt8] {
        var w = BinaryWriter()
        w.bytes.append(contentsOf: magic)
        w.u16(formatVersion)
        w.u16(0)
        w.u64(projections.coveredSeq)
        w.u32(UInt32(projections.states.count))
        for state in projections.states { encode(state, into: &w) }
        let crc = w.bytes.withUnsafeBytes { Journal.checksum($0) }
        w.u32(crc)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(Failure) -> Projections {
        guard bytes.count >= 24, Array(bytes[0..<4]) == magic else { throw .damaged("bad header") }
        var r = BinaryReader(bytes: bytes)
        r.offset = 4
        guard let version = r.u16() else { throw .damaged("bad header") }
        guard readableVersions.contains(version) else { throw .unknownFormat(Int(version)) }
        let stored = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self).littleEndian }
        let computed = bytes.withUnsafeBytes { Journal.checksum(UnsafeRawBufferPointer(rebasing: $0[..<(bytes.count - 4)])) }
        guard stored == computed else { throw .damaged("checksum mismatch") }
        r.limit = bytes.count - 4
        guard r.u16() != nil, let covered = r.u64(), let count = r.u32() else { throw .damaged("bad header") }
        var states: [JobState] = []
        // The count is data: reserve no more than the remaining bytes could hold (a state takes at
        // least 32 bytes), so a damaged count fails as truncated instead of exhausting memory.
        states.reserveCapacity(min(Int(count), (r.limit - r.offset) / 32))
        for _ in 0..<count {
            guard let state = decodeState(&r, format: version) else { throw .damaged("job state \(states.count + 1) is truncated") }
            states.append(state)
        }
        guard r.offset == r.limit else { throw .damaged("unexpected trailing bytes") }
        return Projections(states: states, coveredSeq: covered)
    }

    private static func encode(_ s: JobState, into w: inout BinaryWriter) {
        w.text(s.job)
        w.u8(s.status.rawValue)
        w.u8(s.finalized ? 1 : 0)
        w.u8(s.finalizing == nil ? 0 : 1)
        if let claim = s.finalizing {
            w.text(claim.holder)
            w.u64(claim.seq)
            w.u64(UInt64(bitPattern: claim.at.microseconds))
        }
        w.u32(UInt32(s.refs.count))
        for ref in s.refs { w.text(ref) }
        w.u64(s.version)
        w.u32(s.attempt)
        w.optionalText(s.node)
        for t in [s.createdAt, s.attemptStartedAt, s.lastHeartbeatAt, s.lastProgressAt] {
            w.optionalU64(t.map { UInt64(bitPattern: $0.microseconds) })
        }
        w.optionalU64(s.index)
        w.optionalU64(s.decidedBy)
        w.optionalText(s.decidedReason)
        w.u32(UInt32(s.anomalies.count))
        for a in s.anomalies {
            w.u64(a.seq)
            w.u8(a.type.rawValue)
            w.text(a.message)
        }
        w.u64(UInt64(s.anomalyCount))
    }

    private static func decodeState(_ r: inout BinaryReader, format: UInt16) -> JobState? {
        guard let job = r.text(), let statusRaw = r.u8(), let status = JobStatus(rawValue: statusRaw),
            let finalized = r.u8()
        else { return nil }
        var s = JobState(job: job)
        s.status = status
        s.finalized = finalized != 0
        if format >= 2 {
            guard let hasClaim = r.u8() else { return nil }
            if hasClaim != 0 {
                guard let holder = r.text(), let seq = r.u64(), let at = r.u64() else { return nil }
                s.finalizing = FinalizationClaim(holder: holder, seq: seq, at: Timestamp(microseconds: Int64(bitPattern: at)))
            }
        }
        guard let refCount = r.u32(), refCount <= r.remaining else { return nil }
        for _ in 0..<refCount {
            guard let ref = r.text() else { return nil }
            s.refs.append(ref)
        }
        guard let version = r.u64(), let attempt = r.u32(), let node = r.optionalText(),
            let created = r.optionalU64(), let started = r.optionalU64(), let heartbeat = r.optionalU64(),
            let progress = r.optionalU64(), let index = r.optionalU64(), let decidedBy = r.optionalU64(),
            let reason = r.optionalText(), let anomalyCount = r.u32(), anomalyCount <= r.remaining
        else { return nil }
        func time(_ v: UInt64?) -> Timestamp? { v.map { Timestamp(microseconds: Int64(bitPattern: $0)) } }
        s.version = version
        s.attempt = attempt
        s.node = node
        s.createdAt = time(created)
        s.attemptStartedAt = time(started)
        s.lastHeartbeatAt = time(heartbeat)
        s.lastProgressAt = time(progress)
        s.index = index
        s.decidedBy = decidedBy
        s.decidedReason = reason
        for _ in 0..<anomalyCount {
            guard let seq = r.u64(), let typeRaw = r.u8(), let type = EventType(rawValue: typeRaw), let message = r.text()
            else { return nil }
            s.anomalies.append(Anomaly(seq: seq, type: type, message: message))
        }
        // Counts are data too: each anomaly is an event, so the total lies between the kept ones and the version.
        guard let total = r.u64(), total >= UInt64(s.anomalies.count), total <= version, total <= UInt64(Int.max),
            UInt64(attempt) <= version, s.finalizing == nil || status.isTerminal
        else { return nil }
        s.anomalyCount = Int(total)
        return s
    }
}

/// Little-endian writer for snapshot bytes.
struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func text(_ s: String) {
        u32(UInt32(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }
    /// Optionals: a presence byte, then the value (absent optionals' optional-ness costs one byte).
    mutating func optionalText(_ s: String?) {
        u8(s == nil ? 0 : 1)
        if let s { text(s) }
    }
    mutating func optionalU64(_ v: UInt64?) {
        u8(v == nil ? 0 : 1)
        if let v { u64(v) }
    }
}

/// Bounds-checked little-endian reader; every read returns nil past `limit`.
struct BinaryReader {
    let bytes: [UInt8]
    var offset = 0
    lazy var limit = bytes.count

    init(bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { mutating get { limit - offset } }

    private mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, offset + n <= limit else { return nil }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
    mutating func u8() -> UInt8? { take(1)?.first }
    mutating func u16() -> UInt16? { take(2).map { UInt16($0[$0.startIndex]) | UInt16($0[$0.startIndex + 1]) << 8 } }
    mutating func u32() -> UInt32? {
        take(4).map { s in s.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
    }
    mutating func u64() -> UInt64? {
        take(8).map { s in s.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }
    mutating func text() -> String? {
        guard let n = u32(), let s = take(Int(n)) else { return nil }
        return String(decoding: s, as: UTF8.self)
    }
    mutating func optionalText() -> String?? {
        guard let flag = u8() else { return nil }
        if flag == 0 { return .some(nil) }
        guard let s = text() else { return nil }
        return .some(s)
    }
    mutating func optionalU64() -> UInt64?? {
        guard let flag = u8() else { return nil }
        if flag == 0 { return .some(nil) }
        guard let v = u64() else { return nil }
        return .some(v)
    }
}
