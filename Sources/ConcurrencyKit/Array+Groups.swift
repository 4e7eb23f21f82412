extension Array {
    /// Removes and returns the next group of a queue of requests: the longest prefix whose weights
    /// add up to at most `limit`, and at least one request however heavy (so a large batch goes
    /// alone rather than never). How both group commits (the journal's writer, the shared log's
    /// committer) take what queued while they were busy.
    package mutating func removeGroup(upTo limit: Int, weight: (Element) -> Int) -> [Element] {
        var total = 0
        var taken = 0
        while taken < count, taken == 0 || total + weight(self[taken]) <= limit {
            total += weight(self[taken])
            taken += 1
        }
        defer { removeFirst(taken) }
        return Array(self[..<taken])
    }
}
