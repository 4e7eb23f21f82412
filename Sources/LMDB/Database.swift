/// A named database (LMDB "DBI") inside an environment. Handles stay valid until the environment closes.
package struct Database: Sendable, Hashable {
    let dbi: UInt32

    /// How a database stores its values.
    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Many sorted values per key.
        package static let duplicateSort = Flags(rawValue: C.dupSort)
        /// With `duplicateSort`: every value has the same size, stored packed.
        package static let duplicateFixed = Flags(rawValue: C.dupFixed)
    }
}

/// How a put treats existing data.
package struct PutFlags: OptionSet, Sendable {
    package let rawValue: UInt32
    package init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The key sorts after every existing key (fast path for sequence-keyed logs); else `keyExists`.
    package static let append = PutFlags(rawValue: C.append)
    /// The value sorts after every existing value of its key in a `duplicateSort` database.
    package static let appendDuplicate = PutFlags(rawValue: C.appendDup)
    /// Fail with `keyExists` rather than overwrite.
    package static let noOverwrite = PutFlags(rawValue: C.noOverwrite)
    /// In a `duplicateSort` database, fail with `keyExists` if this exact key/value pair exists.
    package static let noDuplicateData = PutFlags(rawValue: C.noDupData)
}
