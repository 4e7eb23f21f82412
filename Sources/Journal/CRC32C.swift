import CCRC32C

/// CRC32C (Castagnoli), hardware-accelerated where the CPU has the instruction.
enum CRC32C {
    @inline(__always)
    static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ccrc32c_extend(crc, bytes.baseAddress, bytes.count)
    }

    /// The CRC of `seq` (8 big-endian bytes) followed by `body`, in one call.
    @inline(__always)
    static func of(seq: UInt64, body: UnsafeRawBufferPointer) -> UInt32 {
        ccrc32c_seq_and_body(seq, body.baseAddress, body.count)
    }

    static var isHardwareAccelerated: Bool { ccrc32c_is_hardware() != 0 }
}
