/// Job ids interned once: the projections give each job a small integer key (its place in their
/// state array) and every index holds those 4-byte keys instead of strings.
///
/// An open-addressing table with linear probing, looked up by the id's bytes (so a view of a stored
/// record finds its job without making a `String`). Each slot holds a 32-bit tag of the id's hash
/// beside the key, so a probe compares bytes only when the tags agree. The hash is the standard
/// library's seeded `Hasher`, so crafted ids cannot force collisions. The ids themselves live once,
/// in the states (`JobState.job`).
struct JobKeys: Sendable {
    /// 0 is empty; otherwise `tag << 32 | (key + 1)`. A power of two in size, at most 3/4 full.
    private var slots: [UInt64] = []
    private(set) var count = 0

    /// A hasher with the process's seed and nothing combined yet: copying it is cheaper than
    /// `Hasher()`, which reads the seed and sets up its state again for every id.
    private static let seeded = Hasher()

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var hasher = seeded
        hasher.combine(bytes: bytes)
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    /// The key of the id with this hash for which `matches` holds (it compares the bytes), if interned.
    func find(hash: UInt32, matches: (UInt32) -> Bool) -> UInt32? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var i = Int(hash) & mask
        while true {
            let slot = slots[i]
            if slot == 0 { return nil }
            if UInt32(truncatingIfNeeded: slot >> 32) == hash {
                let key = UInt32(truncatingIfNeeded: slot) &- 1
                if matches(key) { return key }
            }
            i = (i + 1) & mask
        }
    }

    static func hash(_ id: String) -> UInt32 {
        var id = id
        return id.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// Look-ahead for a batch: writes each event's job hash into `hashes`, then loads the slot
    /// each probe starts at, in one tight loop of independent loads, so the CPU has the whole
    /// batch's cache misses in flight at once (interleaved with the hashing, only one or two would
    /// be). The loads are summed into `lookahead` so they are not optimised away.
    mutating func lookAhead(_ events: UnsafeBufferPointer<EventView>, hashes: UnsafeMutableBufferPointer<UInt32>) {
        for i in events.indices { hashes[i] = JobKeys.hash(events[i].job) }
        guard !slots.isEmpty else { return }
        let mask = slots.count - 1
        var touched: UInt64 = 0
        for i in events.indices { touched &+= slots[Int(hashes[i]) & mask] }
        lookahead = touched
    }

    private var lookahead: UInt64 = 0

    /// The key of the first slot whose tag matches `hash`, without comparing ids: where the probe
    /// will most likely end (a hint for look-ahead, never an answer).
    func firstCandidate(hash: UInt32) -> UInt32? {
        find(hash: hash) { _ in true }
    }

    /// Records `key` for an id (not yet interned) with this hash.
    mutating func insert(key: UInt32, hash: UInt32) {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        place(UInt64(hash) << 32 | UInt64(key + 1))
        count += 1
    }

    /// Forgets `key` (interned with this hash), closing the gap behind it so that every other key
    /// stays reachable from its hash's slot (backward-shift deletion; no tombstones).
    mutating func remove(key: UInt32, hash: UInt32) {
        guard var hole = slotIndex(of: key, hash: hash) else { return }
        let mask = slots.count - 1
        slots[hole] = 0
        count -= 1
        var i = hole
        while true {
            i = (i + 1) & mask
            let slot = slots[i]
            if slot == 0 { return }
            let home = Int(UInt32(truncatingIfNeeded: slot >> 32)) & mask
            // The entry at i may move into the hole unless its home lies cyclically in (hole, i].
            let stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i)
            if !stays {
                slots[hole] = slot
                slots[i] = 0
                hole = i
            }
        }
    }

    /// Gives the id interned as `old` (with this hash) the key `new`.
    mutating func rekey(from old: UInt32, to new: UInt32, hash: UInt32) {
        guard let i = slotIndex(of: old, hash: hash) else { return }
        slots[i] = UInt64(hash) << 32 | UInt64(new + 1)
    }

    private func slotIndex(of key: UInt32, hash: UInt32) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var i = Int(hash) & mask
        let wanted = UInt64(hash) << 32 | UInt64(key + 1)
        while slots[i] != 0 {
            if slots[i] == wanted { return i }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Sizes the table for `n` ids at once (a bulk build).
    mutating func reserve(_ n: Int) {
        var size = max(slots.count, 16)
        while n * 4 > size * 3 { size *= 2 }
        if size > slots.count { rehash(size) }
    }

    private mutating func grow() { rehash(max(16, slots.count * 2)) }

    private mutating func rehash(_ size: Int) {
        let old = slots
        slots = Array(repeating: 0, count: size)
        for slot in old where slot != 0 { place(slot) }
    }

    private mutating func place(_ slot: UInt64) {
        let mask = slots.count - 1
        var i = Int(UInt32(truncatingIfNeeded: slot >> 32)) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }
}

/// Ids interned to dense keys 0, 1, 2…: for tables that need one value per job without a
/// dictionary of strings (verify's last versions, the writer's version cache). Looked up by bytes.
public struct InternedIDs: Sendable {
    public private(set) var ids: [String] = []
    private var keys = JobKeys()

    public init() {}

    public var count: Int { ids.count }

    /// The key of the id with these bytes, if interned.
    public func key(of bytes: UnsafeRawBufferPointer) -> UInt32? {
        keys.find(hash: JobKeys.hash(bytes)) { ids[Int($0)].hasBytes(bytes) }
    }

    /// The key of the id with these bytes, interning it when new (`inserted`).
    public mutating func intern(_ bytes: UnsafeRawBufferPointer) -> (key: UInt32, inserted: Bool) {
        intern(bytes, hash: JobKeys.hash(bytes))
    }

    private mutating func intern(_ bytes: UnsafeRawBufferPointer, hash: UInt32) -> (key: UInt32, inserted: Bool) {
        if let key = keys.find(hash: hash, matches: { ids[Int($0)].hasBytes(bytes) }) { return (key, false) }
        let key = UInt32(ids.count)
        ids.append(String(decoding: bytes, as: UTF8.self))
        keys.insert(key: key, hash: hash)
        return (key, true)
    }

    public mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        keys = JobKeys()
    }

    /// Interns the job of each of `events` in order, handing `body` its place in the batch, key and
    /// whether it was new, looking ahead (`JobKeys.lookAhead`) like `Projections.Replay`'s batches.
    public mutating func intern(
        jobsOf events: UnsafeBufferPointer<EventView>, _ body: (Int, UInt32, Bool) throws -> Void
    ) rethrows {
        try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: max(events.count, 1)) { hashes in
            keys.lookAhead(events, hashes: hashes)
            for i in events.indices {
                let (key, inserted) = intern(events[i].job, hash: hashes[i])
                try body(i, key, inserted)
            }
        }
    }
}

extension String {
    /// Whether the string's UTF-8 bytes are exactly `bytes`.
    func hasBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let other = bytes.assumingMemoryBound(to: UInt8.self)
        if let same = utf8.withContiguousStorageIfAvailable({ String.sameBytes($0, other) }) { return same }
        return utf8.elementsEqual(other)
    }
}
