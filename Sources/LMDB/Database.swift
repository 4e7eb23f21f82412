/// A named database (LMDB "DBI") inside an environment. Handles stay valid until the environment closes.
public struct Database: Sendable, Hashable {
    let dbi: UInt32

    /// How a database stores its values.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Many sorted values per key.
        public static let duplicateSort = Flags(rawValue: C.dupSort)
        /// With `duplicateSort`: every value has the same size, stored packed.
        public static let duplicateFixed = Flags(rawValue: C.dupFixed)
    }
}

/// How a put treats existing data.
public struct PutFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The key sorts after every existing key (fast path for sequence-keyed logs); else `keyExists`.
    public static let append = PutFlags(rawValue: C.append)
    /// The value sorts after every existing value of its key in a `duplicateSort` database.
    public static let appendDuplicate = PutFlags(rawValue: C.appendDup)
    /// Fail with `keyExists` rather than overwrite.
    public static let noOverwrite = PutFlags(rawValue: C.noOverwrite)
    /// In a `duplicateSort` database, fail with `keyExists` if this exact key/value pair exists.
    public static let noDuplicateData = PutFlags(rawValue: C.noDupData)
}
