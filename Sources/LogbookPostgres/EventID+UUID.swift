import Foundation
import Logbook

/// A shared-log event id is the table's `event_id` uuid, byte for byte.
extension UUID {
    init(_ id: EventID) {
        let (h, l) = (id.high.bigEndian, id.low.bigEndian)
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            withUnsafeBytes(of: h) { raw.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8) }
            withUnsafeBytes(of: l) { (raw.baseAddress! + 8).copyMemory(from: $0.baseAddress!, byteCount: 8) }
        }
        self.init(uuid: bytes)
    }
}

extension EventID {
    init(_ uuid: UUID) {
        var u = uuid.uuid
        let (h, l) = withUnsafeBytes(of: &u) { raw in (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        self.init(high: UInt64(bigEndian: h), low: UInt64(bigEndian: l))
    }
}
