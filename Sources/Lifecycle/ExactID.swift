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
        return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
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
