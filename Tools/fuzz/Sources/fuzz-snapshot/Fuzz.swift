import Logbook

/// A snapshot: any bytes decode to projections or a typed error, never a crash or a hang; what
/// decodes re-encodes to a snapshot that decodes to equal projections. Each input is tried as it is
/// and with its trailing CRC made valid, so the fuzzer reaches the decoder behind the checksum.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? Logbook.decodeSnapshot(bytes)
    guard bytes.count >= 4 else { return 0 }
    let crc = bytes.dropLast(4).withUnsafeBytes { Journal.checksum($0) }
    withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((bytes.count - 4)..., with: $0) }
    guard let projections = try? Logbook.decodeSnapshot(bytes) else { return 0 }
    let again = try? Logbook.decodeSnapshot(Logbook.encodeSnapshot(projections))
    precondition(again == projections, "a decoded snapshot must survive encode and decode")
    return 0
}
