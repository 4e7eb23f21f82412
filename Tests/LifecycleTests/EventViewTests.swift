import Lifecycle
import Testing

/// A view keeps its optional fields without `Optional`'s storage; each must still read back as
/// what it was given, absent or present, empty texts included.
@Suite struct EventViewTests {
    @Test func optionalFieldsReadBackAsGiven() {
        let bytes: [UInt8] = Array("job-1node".utf8)
        bytes.withUnsafeBytes { raw in
            let job = UnsafeRawBufferPointer(rebasing: raw[0..<5])
            let empty = UnsafeRawBufferPointer(rebasing: raw[5..<5])
            let noBase = UnsafeRawBufferPointer(start: nil, count: 0)
            var v = EventView(
                seq: 1, version: 2, type: .heartbeat, at: Timestamp(microseconds: 3), appendedAt: Timestamp(microseconds: 4),
                attempt: nil, index: nil, job: job, nodeBytes: nil, holderBytes: empty, reasonBytes: noBase, dataBytes: nil)
            #expect(v.attempt == nil && v.index == nil)
            #expect(v.node == nil && v.data == nil)
            #expect(v.holder == "" && v.reason == "")  // present and empty, with or without a base address
            v.attempt = 0
            v.index = 0
            #expect(v.attempt == 0 && v.index == 0)
            v.index = nil
            #expect(v.attempt == 0 && v.index == nil)
            v.attempt = .max
            v.index = .max
            #expect(v.attempt == .max && v.index == .max)
            v.attempt = nil
            #expect(v.attempt == nil && v.index == .max)
            v.nodeBytes = UnsafeRawBufferPointer(rebasing: raw[5..<9])
            v.holderBytes = nil
            #expect(v.node == "node" && v.holder == nil && v.jobString == "job-1")
            #expect(v.recorded.event == Event(job: "job-1", type: .heartbeat, at: Timestamp(microseconds: 3), node: "node", reason: "", index: .max))
        }
    }

    /// Small enough that copying a view is a few moves, not a call to `memcpy` (the replay copies
    /// each view it folds; at 169 bytes that copy was a fifth of a replay's time).
    @Test func aViewFitsInTwoCacheLines() {
        #expect(MemoryLayout<EventView>.size <= 128)
    }
}

/// `Projections(states:)` takes an array of distinct jobs as it is (a decoded snapshot); any other
/// input, an array naming a job twice included, goes state by state, a later state of a job
/// replacing the earlier one. Both must build the same projections.
@Suite struct ProjectionsFromStatesTests {
    func state(_ job: String, _ status: JobStatus, version: UInt64, node: String? = nil) -> JobState {
        var s = JobState(job: job)
        s.status = status
        s.version = version
        s.node = node
        return s
    }

    @Test func anArrayOfDistinctJobsAndTheSameStatesOneByOneBuildEqualProjections() {
        let states = (0..<500).map { i in
            state("job-\(i)", [.pending, .running, .completed, .failed][i % 4], version: UInt64(i + 1), node: "n\(i % 3)")
        }
        let adopted = Projections(states: states, coveredSeq: 900)
        let oneByOne = Projections(states: states.lazy.map { $0 }, coveredSeq: 900)
        #expect(adopted == oneByOne)
        #expect(adopted.jobCount == 500)
        #expect(adopted.state(of: "job-123") == states[123])
        #expect(adopted.state(of: "job-500") == nil)
    }

    @Test func aJobNamedTwiceKeepsItsLaterStateInItsFirstPlace() {
        let first = state("a", .running, version: 1, node: "n1")
        let later = state("a", .completed, version: 2, node: "n1")
        let b = state("b", .running, version: 1, node: "n2")
        let twice = Projections(states: [first, b, later], coveredSeq: 3)
        #expect(twice == Projections(states: [later, b], coveredSeq: 3))
        #expect(twice.jobCount == 2)
        #expect(twice.state(of: "a") == later)
        #expect(twice.states.map(\.job) == ["a", "b"])
    }
}
