import Lifecycle

/// The binary record stored for each event (docs/record-format.md has the byte-by-byte layout).
///
/// Little-endian integers; a 32-byte fixed header, the job id, the optional fields named by the
/// presence flags in a fixed order, then a CRC32C over the 8-byte big-endian seq followed by every
/// byte before the CRC. Folding the seq into the checksum catches a record stored under the wrong key.
extension Journal {
    /// Decodes one raw record as stored under `seq` (from `mdb_dump`, say, or a fuzzer), checking its
    /// CRC and format; `strict` also checks what `verify` checks (reserved bytes, UTF-8, event rules).
    package static func decodeRecord(seq: UInt64, bytes: UnsafeRawBufferPointer, strict: Bool = true)
        throws(JournalError) -> RecordedEvent
    {
        try RecordFormat.decode(seq: seq, bytes: bytes, strict: strict)
    }

    /// Encodes `event` as the record stored under `seq` (the inverse of `decodeRecord`).
    package static func encodeRecord(seq: UInt64, version: UInt64, appendedAt: Timestamp, event: Event) -> [UInt8] {
        var buffer: [UInt8] = []
        RecordFormat.encode(seq: seq, version: version, appendedAt: appendedAt, event: event, into: &buffer)
        return buffer
    }
}

enum RecordFormat {
    /// Format 1: no id. Format 2: flag bit 6 may say a 16-byte id follows the job id. A record is
    /// written as 1 whenever its event has no id, so events without ids cost nothing and an older
    /// build reads them; one with an id is refused by an older build as an unknown format.
    static let version: UInt8 = 1
    static let versionWithID: UInt8 = 2
    static let idSize = 16
    static let headerSize = 32
    static let crcSize = 4

    struct Presence: OptionSet {
        let rawValue: UInt16
        static let node = Presence(rawValue: 1 << 0)
        static let holder = Presence(rawValue: 1 << 1)
        static let reason = Presence(rawValue: 1 << 2)
        static let index = Presence(rawValue: 1 << 3)
        static let attempt = Presence(rawValue: 1 << 4)
        static let data = Presence(rawValue: 1 << 5)
        static let id = Presence(rawValue: 1 << 6)
        static let known: Presence = [.node, .holder, .reason, .index, .attempt, .data]
    }

    /// Appends the record for `event` to `buffer`.
    static func encode(seq: UInt64, version: UInt64, appendedAt: Timestamp, event: Event, into buffer: inout [UInt8]) {
        let start = buffer.count
        let size = encodedSize(event)
        buffer.append(contentsOf: repeatElement(0, count: size))
        buffer.withUnsafeMutableBytes { raw in
            encode(
                seq: seq, version: version, appendedAt: appendedAt, event: event,
                into: UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
        }
    }

    /// The size of `event`'s record.
    static func encodedSize(_ event: Event) -> Int {
        var n = headerSize + event.job.utf8.count + crcSize
        if event.id != nil { n += idSize }
        if let node = event.node { n += 2 + node.utf8.count }
        if let holder = event.holder { n += 2 + holder.utf8.count }
        if let reason = event.reason { n += 2 + reason.utf8.count }
        if event.index != nil { n += 8 }
        if event.attempt != nil { n += 4 }
        if let data = event.data { n += 4 + data.utf8.count }
        return n
    }

    /// Writes the record for `event` into `space`, exactly `encodedSize(event)` bytes (straight into
    /// LMDB's reserved space at append). `event.at` nil means the append time.
    static func encode(
        seq: UInt64, version: UInt64, appendedAt: Timestamp, event: Event, into space: UnsafeMutableRawBufferPointer
    ) {
        var presence: Presence = []
        if event.node != nil { presence.insert(.node) }
        if event.holder != nil { presence.insert(.holder) }
        if event.reason != nil { presence.insert(.reason) }
        if event.index != nil { presence.insert(.index) }
        if event.attempt != nil { presence.insert(.attempt) }
        if event.data != nil { presence.insert(.data) }
        if event.id != nil { presence.insert(.id) }
        var w = ByteWriter(space: space)
        w.u8(event.id == nil ? RecordFormat.version : RecordFormat.versionWithID)
        w.u8(event.type.rawValue)
        w.u16(presence.rawValue)
        w.u16(UInt16(event.job.utf8.count))
        w.u16(0)
        w.u64(version)
        w.u64(UInt64(bitPattern: (event.at ?? appendedAt).microseconds))
        w.u64(UInt64(bitPattern: appendedAt.microseconds))
        w.text(event.job)
        if let id = event.id {
            w.u64(id.high.bigEndian.littleEndian)  // big-endian, as the id reads
            w.u64(id.low.bigEndian.littleEndian)
        }
        if let node = event.node { w.shortText(node) }
        if let holder = event.holder { w.shortText(holder) }
        if let reason = event.reason { w.shortText(reason) }
        if let index = event.index { w.u64(index) }
        if let attempt = event.attempt { w.u32(attempt) }
        if let data = event.data {
            w.u32(UInt32(data.utf8.count))
            w.text(data)
        }
        let crc = checksum(seq: seq, body: UnsafeRawBufferPointer(rebasing: space[..<w.offset]))
        w.u32(crc)
        precondition(w.offset == space.count, "record size mismatch")
    }

    @inline(__always)
    static func checksum(seq: UInt64, body: UnsafeRawBufferPointer) -> UInt32 { CRC32C.of(seq: seq, body: body) }

    /// Checks the format version and the CRC of the record stored under `seq`.
    static func verify(seq: UInt64, bytes: UnsafeRawBufferPointer) throws(JournalError) {
        guard bytes.count >= headerSize + crcSize else {
            throw .corruptRecord(seq: seq, detail: "record of \(bytes.count) bytes is shorter than a header")
        }
        let format = bytes[0]
        guard format == RecordFormat.version || format == RecordFormat.versionWithID else {
            throw .unknownFormat(what: "record at seq \(seq)", version: Int(format))
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - crcSize)])
        let stored = bytes.loadUnaligned(fromByteOffset: bytes.count - crcSize, as: UInt32.self).littleEndian
        let computed = checksum(seq: seq, body: body)
        guard stored == computed else {
            throw .corruptRecord(seq: seq, detail: "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
    }

    /// Decodes and verifies the record stored under `seq` into an owned event (every string made).
    static func decode(seq: UInt64, bytes: UnsafeRawBufferPointer, includeData: Bool = true, strict: Bool = false)
        throws(JournalError) -> RecordedEvent
    {
        var v = try view(seq: seq, bytes: bytes, strict: strict)
        if !includeData { v.dataBytes = nil }
        return v.recorded
    }

    /// Checks the record stored under `seq` (format version, CRC over the raw bytes, field layout)
    /// and returns a view of it in place: scalars decoded, texts left as bytes. Allocates nothing.
    ///
    /// `strict` (what `verify` uses) also checks what the CRC cannot: the reserved header bytes are 0,
    /// every text is valid UTF-8, and the event keeps the event rules, so a sound journal is one whose
    /// every event `export` writes and `ingest` accepts.
    static func view(seq: UInt64, bytes: UnsafeRawBufferPointer, strict: Bool = false) throws(JournalError) -> EventView {
        try verify(seq: seq, bytes: bytes)
        var r = ByteReader(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - crcSize)]))
        func corrupt(_ detail: String) -> JournalError { .corruptRecord(seq: seq, detail: detail) }
        r.offset = 1
        guard let typeByte = r.u8(), let type = EventType(rawValue: typeByte) else {
            throw corrupt("unknown event type \(bytes[1])")
        }
        guard let presenceRaw = r.u16() else { throw corrupt("truncated header") }
        let presence = Presence(rawValue: presenceRaw)
        let known: Presence = bytes[0] == RecordFormat.versionWithID ? Presence.known.union(.id) : .known
        guard presence.isSubset(of: known) else { throw corrupt("unknown field flags \(presenceRaw)") }
        guard let jobLength = r.u16(), let reserved = r.u16(), let version = r.u64(), let at = r.u64(),
            let appended = r.u64(), let job = r.slice(Int(jobLength))
        else { throw corrupt("truncated header") }
        if strict && reserved != 0 { throw corrupt("reserved header bytes are \(reserved), not 0") }
        var v = EventView(
            seq: seq, version: version, type: type, at: Timestamp(microseconds: Int64(bitPattern: at)),
            appendedAt: Timestamp(microseconds: Int64(bitPattern: appended)), attempt: nil, index: nil, job: job,
            nodeBytes: nil, holderBytes: nil, reasonBytes: nil, dataBytes: nil)
        if presence.contains(.id) {
            guard r.slice(RecordFormat.idSize) != nil else { throw corrupt("truncated id") }
            v.idFollowsJob()
        }
        if presence.contains(.node) { guard let b = r.shortSlice() else { throw corrupt("truncated node") }; v.nodeBytes = b }
        if presence.contains(.holder) { guard let b = r.shortSlice() else { throw corrupt("truncated holder") }; v.holderBytes = b }
        if presence.contains(.reason) { guard let b = r.shortSlice() else { throw corrupt("truncated reason") }; v.reasonBytes = b }
        if presence.contains(.index) { guard let n = r.u64() else { throw corrupt("truncated index") }; v.index = n }
        if presence.contains(.attempt) { guard let n = r.u32() else { throw corrupt("truncated attempt") }; v.attempt = n }
        if presence.contains(.data) {
            guard let n = r.u32(), let b = r.slice(Int(n)) else { throw corrupt("truncated data") }
            v.dataBytes = b
        }
        guard r.offset == r.bytes.count else { throw corrupt("\(r.bytes.count - r.offset) unexpected trailing bytes") }
        if strict { try checkStrictly(v, corrupt) }
        return v
    }

    /// What `verify` checks beyond the layout: UTF-8 texts and the event rules, on the bytes in place.
    private static func checkStrictly(_ v: EventView, _ corrupt: (String) -> JournalError) throws(JournalError) {
        // One call per text, no array of them: this runs for every record `verify` reads.
        func utf8(_ bytes: UnsafeRawBufferPointer?, _ name: String) throws(JournalError) {
            if let bytes, !UTF8Validation.isValid(bytes) { throw corrupt("the \(name) is not UTF-8") }
        }
        try utf8(v.job, "job id")
        try utf8(v.nodeBytes, "node")
        try utf8(v.holderBytes, "holder")
        try utf8(v.reasonBytes, "reason")
        try utf8(v.dataBytes, "data")
        do throws(EventValidationError) {
            try EventRules.check(
                type: v.type, jobBytes: v.job.count, nodeBytes: v.nodeBytes?.count, holderBytes: v.holderBytes?.count,
                reasonBytes: v.reasonBytes?.count, at: v.at, attempt: v.attempt, index: v.index, data: v.dataBytes)
        } catch {
            throw corrupt("the stored event breaks the event rules: \(error)")
        }
    }

    /// The job id and type of a verified record, without decoding the rest (for compaction and verify).
    static func peekTypeAndVersion(_ bytes: UnsafeRawBufferPointer) -> (type: UInt8, version: UInt64)? {
        guard bytes.count >= headerSize + crcSize else { return nil }
        return (bytes[1], bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
    }

    private static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }
}

/// Little-endian writes into space sized for them (`RecordFormat.encodedSize`); a write past the
/// end traps rather than corrupting memory.
struct ByteWriter {
    let space: UnsafeMutableRawBufferPointer
    var offset = 0

    private mutating func put<T: FixedWidthInteger>(_ v: T) {
        let n = MemoryLayout<T>.size
        precondition(n <= space.count - offset, "record overruns its space")
        space.storeBytes(of: v.littleEndian, toByteOffset: offset, as: T.self)
        offset += n
    }
    mutating func u8(_ v: UInt8) { put(v) }
    mutating func u16(_ v: UInt16) { put(v) }
    mutating func u32(_ v: UInt32) { put(v) }
    mutating func u64(_ v: UInt64) { put(v) }
    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            precondition(bytes.count <= space.count - offset, "record overruns its space")
            if let base = bytes.baseAddress, let to = space.baseAddress {
                (to + offset).copyMemory(from: base, byteCount: bytes.count)
            }
            offset += bytes.count
        }
    }
    mutating func shortText(_ s: String) {
        u16(UInt16(s.utf8.count))
        text(s)
    }
}

/// Bounds-checked little-endian reads; every read returns `nil` past the end instead of trapping.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    @inline(__always) mutating func u8() -> UInt8? {
        guard offset + 1 <= bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }
    @inline(__always) mutating func u16() -> UInt16? {
        guard offset + 2 <= bytes.count else { return nil }
        defer { offset += 2 }
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian
    }
    @inline(__always) mutating func u32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        defer { offset += 4 }
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
    }
    @inline(__always) mutating func u64() -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        defer { offset += 8 }
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
    }
    /// The next `n` bytes, in place.
    @inline(__always) mutating func slice(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= bytes.count - offset else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
    }
    /// A 16-bit length, then that many bytes.
    @inline(__always) mutating func shortSlice() -> UnsafeRawBufferPointer? {
        guard let n = u16() else { return nil }
        return slice(Int(n))
    }
}
