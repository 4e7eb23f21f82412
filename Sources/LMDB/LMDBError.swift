#if canImport(Glibc)
import Glibc
#endif

/// An LMDB return code (or an errno from the environment) with its readable message.
///
/// Named codes cover the cases callers branch on; every other code still carries LMDB's message.
public struct LMDBError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String

    public init(code: Int32) {
        self.code = code
        self.message = C.strerror(code)
    }

    public static let notFound = LMDBError(code: C.notFound)
    public static let keyExists = LMDBError(code: C.keyExist)
    public static let mapFull = LMDBError(code: C.mapFull)
    public static let mapResized = LMDBError(code: C.mapResized)
    public static let readersFull = LMDBError(code: C.readersFull)
    public static let corrupted = LMDBError(code: C.corrupted)
    public static let panic = LMDBError(code: C.panic)
    public static let versionMismatch = LMDBError(code: C.versionMismatch)
    public static let invalidFile = LMDBError(code: C.invalid)
    public static let badValueSize = LMDBError(code: C.badValueSize)
    public static let transactionFull = LMDBError(code: C.txnFull)
    public static let incompatible = LMDBError(code: C.incompatible)

    /// The environment was closed (by another thread) before this transaction could begin.
    public static let environmentClosed = LMDBError(code: EBADF)

    public static func == (a: LMDBError, b: LMDBError) -> Bool { a.code == b.code }

    public var description: String { "LMDB error \(code): \(message)" }

    /// Throws for any non-success code.
    @inline(__always)
    static func check(_ rc: Int32) throws(LMDBError) {
        if rc != 0 { throw LMDBError(code: rc) }
    }
}
