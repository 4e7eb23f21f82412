import LMDB
import TestSupport
import Testing

@Suite struct EnvironmentTests {
    @Test func errorsCarryCodeAndMessage() {
        let e = LMDBError.mapFull
        #expect(e.code == -30792)
        #expect(e.message.contains("MDB_MAP_FULL"))
        #expect(e.description.contains("-30792"))
    }

    @Test func openingAMissingReadOnlyEnvironmentThrowsInsteadOfTrapping() {
        var options = Environment.Options(path: "/nonexistent/dir/x.mdb")
        options.readOnly = true
        #expect(throws: LMDBError.self) { try Environment(options) }
    }

    @Test func putGetDeleteAndCursorWalk() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let env = try Environment(Environment.Options(path: dir.file("e.mdb")))
        defer { env.close() }
        let db = try env.openDatabases([("t", [])])[0]
        try env.write { txn in
            for i in [3, 1, 2] {
                var k = UInt64(i).bigEndian
                try withUnsafeBytes(of: &k) { key in try txn.put(db, key: key, value: key) }
            }
        }
        let keys: [UInt64] = try env.read { txn in
            try txn.withCursor(db) { c in
                var out: [UInt64] = []
                var entry = try c.get(.first)
                while let (k, _) = entry {
                    out.append(UInt64(bigEndian: k.loadUnaligned(as: UInt64.self)))
                    entry = try c.get(.next)
                }
                return out
            }
        }
        #expect(keys == [1, 2, 3])
        // A failing body aborts: nothing of it is stored.
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try env.write { txn in
                var k = UInt64(9).bigEndian
                try withUnsafeBytes(of: &k) { key in try txn.put(db, key: key, value: key) }
                throw Boom()
            }
        }
        #expect(try env.read { txn in try txn.count(db) } == 3)
        // Appending a key that does not sort last is refused with a typed error.
        #expect(throws: LMDBError.keyExists) {
            try env.write { txn in
                var k = UInt64(2).bigEndian
                try withUnsafeBytes(of: &k) { key in try txn.put(db, key: key, value: key, flags: .append) }
            }
        }
    }
}
