import CCRC32C
import Testing

@Suite struct CRC32CTests {
    // RFC 3720 (iSCSI) test vectors for CRC32C.
    @Test(arguments: [
        ([UInt8](repeating: 0, count: 32), UInt32(0x8A91_36AA)),
        ([UInt8](repeating: 0xFF, count: 32), UInt32(0x62A8_AB43)),
        (Array(UInt8(0)...UInt8(31)), UInt32(0x46DD_794E)),
        (Array("123456789".utf8), UInt32(0xE306_9283)),
    ])
    func knownVectors(input: [UInt8], expected: UInt32) {
        #expect(input.withUnsafeBytes { ccrc32c_extend(0, $0.baseAddress, $0.count) } == expected)
        #expect(input.withUnsafeBytes { ccrc32c_extend_portable(0, $0.baseAddress, $0.count) } == expected)
    }

    @Test func hardwareAndPortableAgreeAtEveryLengthAndSplit() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        for n in 0..<bytes.count {
            let whole = bytes.withUnsafeBytes { ccrc32c_extend(0, $0.baseAddress, n) }
            let portable = bytes.withUnsafeBytes { ccrc32c_extend_portable(0, $0.baseAddress, n) }
            #expect(whole == portable)
            let split = n / 3
            let a = bytes.withUnsafeBytes { ccrc32c_extend(0, $0.baseAddress, split) }
            let b = bytes.withUnsafeBytes { ccrc32c_extend(a, $0.baseAddress! + split, n - split) }
            #expect(b == whole)
        }
    }

    /// A record's checksum in one call equals the sequence's 8 big-endian bytes, then the body.
    @Test func seqAndBodyEqualsExtendingBySeqThenBody() {
        let bytes = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for (seq, n) in [(UInt64(1), 0), (42, 7), (0x0102_0304_0506_0708, 97), (.max, 200)] {
            var key = seq.bigEndian
            let seeded = withUnsafeBytes(of: &key) { ccrc32c_extend(0, $0.baseAddress, 8) }
            let expected = bytes.withUnsafeBytes { ccrc32c_extend(seeded, $0.baseAddress, n) }
            #expect(bytes.withUnsafeBytes { ccrc32c_seq_and_body(seq, $0.baseAddress, n) } == expected)
        }
    }
}
