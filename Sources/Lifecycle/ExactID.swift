/// A job, holder or node id, compared and hashed by its UTF-8 bytes.
///
/// Swift's `String` equality is Unicode canonical equivalence: `"caf\u{E9}"` (NFC) equals
/// `"cafe\u{301}"` (NFD). LMDB keys are bytes, so on disk those are two jobs. Every in-memory
/// structure that groups or matches ids (projections, the writer's version cache, the fold's refs,
/// filters, verify) keys them with `ExactID`, so memory agrees with the disk: an id *is* its bytes.
/// Nothing is normalised or rejected (macOS paths, a common source of job ids, are NFD).
public struct ExactID: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let string: String

    @inlinable public init(_ string: String) { self.string = string }
    public init(stringLiteral value: String) { self.string = value }

    public var description: String { string }

    public static func == (a: ExactID, b: ExactID) -> Bool { a.string.hasSameBytes(as: b.string) }

    public func hash(into hasher: inout Hasher) {
        var s = string
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Byte order, the order of LMDB's keys.
    public static func < (a: ExactID, b: ExactID) -> Bool { a.string.utf8.lexicographicallyPrecedes(b.string.utf8) }
}

extension String {
    /// Whether both strings have the same UTF-8 bytes (stricter than `==`, which is canonical equivalence).
    @inlinable public func hasSameBytes(as other: String) -> Bool {
        var a = self
        var b = other
        // Native strings are contiguous UTF-8: compare the buffers, not byte by byte through views.
        return a.withUTF8 { x in b.withUTF8 { y in String.sameBytes(x, y) } }
    }

    /// Word-at-a-time byte comparison (the generic `elementsEqual` is not specialized across modules
    /// and showed up in replay profiles).
    @inlinable static func sameBytes(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = x.count
        guard n == y.count else { return false }
        guard n > 0, let px = x.baseAddress, let py = y.baseAddress, px != py else { return true }
        let rx = UnsafeRawPointer(px)
        let ry = UnsafeRawPointer(py)
        var i = 0
        while i + 8 <= n {
            if rx.loadUnaligned(fromByteOffset: i, as: UInt64.self) != ry.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < n {
            if px[i] != py[i] { return false }
            i += 1
        }
        return true
    }
}

extension Optional where Wrapped == String {
    /// Byte equality for optional ids: both nil, or both present with the same bytes.
    @inlinable public func hasSameBytes(as other: String?) -> Bool {
        switch (self, other) {
        case (nil, nil): true
        case (let a?, let b?): a.hasSameBytes(as: b)
        default: false
        }
    }
}
