import Logbook

/// A stored record: any bytes decode to an event or a typed error, never a crash; what decodes
/// strictly re-encodes to the same bytes (the format has one encoding per event). Each input is
/// tried as it is and with its CRC made valid, so the fuzzer reaches the parser behind the checksum.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let seq: UInt64 = 7
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = bytes.withUnsafeBytes { try? Journal.decodeRecord(seq: seq, bytes: $0, strict: false) }
    guard bytes.count >= 4 else { return 0 }
    let crc = (withUnsafeBytes(of: seq.bigEndian) { Array($0) } + bytes.dropLast(4)).withUnsafeBytes { Journal.checksum($0) }
    withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((bytes.count - 4)..., with: $0) }
    _ = bytes.withUnsafeBytes { try? Journal.decodeRecord(seq: seq, bytes: $0, strict: false) }
    if let e = bytes.withUnsafeBytes({ try? Journal.decodeRecord(seq: seq, bytes: $0, strict: true) }) {
        let again = Journal.encodeRecord(seq: seq, version: e.version, appendedAt: e.appendedAt, event: e.event)
        precondition(again == bytes, "a strictly valid record must re-encode to its own bytes")
    }
    return 0
}
