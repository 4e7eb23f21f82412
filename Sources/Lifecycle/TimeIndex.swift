/// Jobs ordered by a time (their last sign of life, or of progress), answering "which jobs have a
/// time at or before T" in O(result + buckets) rather than by scanning every job.
///
/// Jobs sit in one-second buckets; a sorted array holds the bucket keys. Times mostly grow, so a
/// new bucket usually lands at the end of that array.
struct TimeIndex: Sendable, Equatable {
    /// Job keys (see `JobKeys`) per one-second bucket.
    private var buckets: [Int64: Set<UInt32>] = [:]
    private var keys: [Int64] = []

    private static func bucket(_ t: Timestamp) -> Int64 {
        Timestamp.floorDivide(t.microseconds, by: 1_000_000)
    }

    var isEmpty: Bool { buckets.isEmpty }

    init() {}

    /// Builds the index in one pass, sorting the bucket keys once (inserting them one by one into
    /// the sorted array would cost O(buckets²) when the entries come in no particular order).
    init(_ entries: [(job: UInt32, time: Timestamp)]) {
        var grouped: [Int64: [UInt32]] = [:]
        for (job, t) in entries { grouped[TimeIndex.bucket(t), default: []].append(job) }
        buckets.reserveCapacity(grouped.count)
        for (key, jobs) in grouped { buckets[key] = Set(jobs) }
        keys = grouped.keys.sorted()
    }

    mutating func insert(_ job: UInt32, at t: Timestamp) {
        let b = TimeIndex.bucket(t)
        if buckets[b] == nil {
            let i = position(of: b)
            keys.insert(b, at: i)
        }
        buckets[b, default: []].insert(job)
    }

    mutating func remove(_ job: UInt32, at t: Timestamp) {
        let b = TimeIndex.bucket(t)
        // In place: a copy of the bucket (`var set = buckets[b]`) would be a second reference, and
        // removing from it would copy the whole bucket at every move of a job's time.
        guard buckets[b]?.remove(job) != nil, buckets[b]?.isEmpty == true else { return }
        buckets[b] = nil
        let i = position(of: b)
        if i < keys.count, keys[i] == b { keys.remove(at: i) }
    }

    /// Jobs whose time is at or before `limit`; `time(job)` gives a job's exact time for the boundary bucket.
    func jobs(atOrBefore limit: Timestamp, time: (UInt32) -> Timestamp?) -> [UInt32] {
        let last = TimeIndex.bucket(limit)
        var result: [UInt32] = []
        for key in keys {
            if key > last { break }
            guard let set = buckets[key] else { continue }
            if key < last {
                result.append(contentsOf: set)
            } else {
                result.append(contentsOf: set.filter { job in time(job).map { $0 <= limit } ?? false })
            }
        }
        return result
    }

    /// The buckets with each key mapped to its id (for comparing two indexes).
    func contents(_ id: (UInt32) -> ExactID) -> Contents {
        Contents(keys: keys, buckets: buckets.mapValues { Set($0.map(id)) })
    }

    struct Contents: Equatable {
        var keys: [Int64]
        var buckets: [Int64: Set<ExactID>]
    }

    private func position(of b: Int64) -> Int {
        if let lastKey = keys.last, lastKey < b { return keys.count }
        var lo = 0
        var hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < b { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
