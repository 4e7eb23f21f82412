import Journal
import Lifecycle
import Logbook
import PropertyBased
import TestSupport
import Testing

/// A job, a holder and a node are their UTF-8 bytes: canonically equivalent but differently encoded
/// ids (NFC `é` and NFD `e` + U+0301) stay apart end to end, in memory as on disk.
@Suite struct ExactIdentityTests {
    /// Pieces with two or more encodings that Swift's `==` calls equal.
    static let equivalentPieces: [(String, String)] = [
        ("\u{E9}", "e\u{301}"),  // é
        ("\u{C5}", "\u{212B}"),  // Å and the Angstrom sign
        ("\u{C5}", "A\u{30A}"),
        ("\u{1E69}", "s\u{323}\u{307}"),  // ṩ
        ("\u{AC00}", "\u{1100}\u{1161}"),  // 가 and its conjoining jamo
        ("\u{F4}", "o\u{302}"),  // ô
    ]

    /// Two ids from the same random pieces: `==` holds, the bytes differ.
    static func equivalentPair(_ picks: [Int], _ plain: Int) -> (String, String) {
        var a = "j\(plain)-"
        var b = a
        for (i, n) in picks.enumerated() {
            let (x, y) = equivalentPieces[n % equivalentPieces.count]
            // At least one piece differs; the others may match byte for byte.
            if i == 0 || n % 3 != 0 { a += x; b += y } else { a += x; b += x }
        }
        return (a, b)
    }

    @Test func canonicallyEquivalentJobsAndHoldersStaySeparateEndToEnd() async throws {
        await propertyCheck(count: 40, input: Gen.int(in: 0...1000).array(of: 1...4), Gen.int(in: 0...99)) { picks, plain in
            let (nfc, nfd) = ExactIdentityTests.equivalentPair(picks, plain)
            #expect(nfc == nfd && !nfc.hasSameBytes(as: nfd), "the generator must make equal-but-different ids")
            let dir = TemporaryDirectory()
            defer { dir.cleanup() }
            let path = dir.file("ids.journal")
            do {
                let logbook = try Logbook.open(at: path, options: testOptions())
                // One batch touching both: each job gets its own versions.
                let batch = try await logbook.append([
                    e(nfc, .started, at: 1, node: nfc), e(nfd, .created, at: 2), e(nfd, .cancelled, at: 3),
                    e(nfc, .refAcquired, at: 4, holder: nfc), e(nfc, .refReleased, at: 5, holder: nfd),
                ])
                #expect(batch.events.map(\.version) == [1, 1, 2, 2, 3])
                #expect(batch.state(of: nfc).status == .running)
                #expect(batch.state(of: nfd).status == .cancelled)
                // The release by the other holder is an anomaly, not the last release.
                #expect(batch.state(of: nfc).refs == [nfc])
                #expect(batch.state(of: nfc).anomalyCount == 1)
                try check(logbook, nfc, nfd)
                _ = try await logbook.snapshot()
                _ = try await logbook.append(e(nfd, .finalized, at: 6))
                logbook.close()
            }
            // Reopened from the snapshot plus tail, and by a full replay of a read-only opener.
            for readOnly in [false, true] {
                let reopened = try Logbook.open(at: path, options: testOptions(readOnly: readOnly))
                defer { reopened.close() }
                try check(reopened, nfc, nfd)
                #expect(reopened.state(of: nfd)?.finalized == true)
                #expect(reopened.state(of: nfc)?.finalized == false)
            }
            let report = try Logbook.Maintenance.verify(at: path)
            #expect(report.jobs == 2)
            #expect(report.snapshotSeq == 5)
        }
    }

    private func check(_ logbook: Logbook, _ nfc: String, _ nfd: String) throws {
        #expect(logbook.state(of: nfc)?.status == .running)
        #expect(logbook.state(of: nfc)?.job.hasSameBytes(as: nfc) == true)
        #expect(logbook.state(of: nfd)?.status == .cancelled)
        #expect(logbook.state(of: nfd)?.job.hasSameBytes(as: nfd) == true)
        #expect(logbook.jobs().count == 2)
        #expect(logbook.jobs(JobQuery(node: nfc)).map(\.job) == [nfc])
        #expect(logbook.jobs(JobQuery(node: nfd)).isEmpty)
        #expect(try logbook.history(of: nfd).map(\.event.seq).prefix(2) == [2, 3])
        #expect(try logbook.state(of: nfc, throughSeq: 3)?.status == .running)
        #expect(try logbook.state(of: nfd, throughSeq: 3)?.status == .cancelled)
    }

    @Test func exactIDComparesBytesWhereStringComparesCanonically() {
        let nfc = "caf\u{E9}"
        let nfd = "cafe\u{301}"
        #expect(nfc == nfd)
        #expect(ExactID(nfc) != ExactID(nfd))
        #expect(Set([ExactID(nfc), ExactID(nfd)]).count == 2)
        #expect(ExactID(nfd) < ExactID(nfc))  // "e" (0x65) sorts before 0xC3
        #expect(Event(job: nfc, type: .created) != Event(job: nfd, type: .created))
        #expect(JobState(job: nfc) != JobState(job: nfd))
    }
}

/// No public API input traps.
@Suite struct APIInputEdgeTests {
    @Test func anEmptyBatchIsRefusedNotATrap() async throws {
        try await withLogbook { (logbook: Logbook, _: String) async throws -> Void in
            await #expect(throws: JournalError.emptyBatch) { try await logbook.append(Array<AppendItem>()) }
            await #expect(throws: JournalError.emptyBatch) { try await logbook.append(Array<Event>()) }
            await #expect(throws: JournalError.emptyBatch) { try await logbook.append([] as [AppendItem]) }
            let last = try logbook.maintenance.lastSeq()
            #expect(last == 0)
        }
    }

    @Test func extremeTimesAndDurationsSaturate() {
        #expect(Timestamp(seconds: .max).microseconds == .max)
        #expect(Timestamp(seconds: .min).microseconds == .min)
        #expect(Timestamp(microseconds: .max).adding(microseconds: 1).microseconds == .max)
        #expect(Timestamp(microseconds: .min).subtracting(microseconds: .max).microseconds == .min)
        #expect(Duration.seconds(Int64.max).wholeMicroseconds == .max)
    }

    @Test func followingFromTheTopOfTheRangeEndsAtOnce() async throws {
        try await withLogbook { logbook, _ in
            _ = try await logbook.append(e("j", .created, at: 0))
            var iterator = logbook.follow(after: .max).makeAsyncIterator()
            #expect(try await iterator.next() == nil)
        }
    }
}

/// Found by `Tools/fuzz` (fuzz-snapshot): a snapshot whose CRC holds but whose job count is huge
/// made open reserve terabytes and abort.
@Suite struct SnapshotFuzzRegressionTests {
    @Test func aHugeJobCountIsReportedAsDamagedNotAnAbort() {
        var bytes = Array("LBSN".utf8) + [1, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0xFF, 0xFF]
        let crc = bytes.withUnsafeBytes { Journal.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { bytes += $0 }
        #expect(throws: (any Error).self) { try Logbook.decodeSnapshot(bytes) }
    }

    /// Also found by fuzz-snapshot: an anomaly total beyond Int.max trapped converting it.
    @Test func countsThatNoJournalCouldHoldAreReportedAsDamaged() throws {
        var state = JobState(job: "j")
        state.version = 3
        state.anomalyCount = 1
        let good = Logbook.encodeSnapshot(Projections(states: [state], coveredSeq: 3))
        #expect(try Logbook.decodeSnapshot(good).states.count == 1)
        // The state's last 8 bytes are its anomaly total: make it 2^64 - 1, then the CRC right again.
        var bad = Array(good.dropLast(4))
        bad.replaceSubrange((bad.count - 8)..., with: [UInt8](repeating: 0xFF, count: 8))
        let crc = bad.withUnsafeBytes { Journal.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { bad += $0 }
        #expect(throws: (any Error).self) { try Logbook.decodeSnapshot(bad) }
    }
}

/// Found by fuzz-snapshot's second 30-minute run: a time near the ends of Int64 overflowed the
/// time index's bucket arithmetic (and RFC 3339 printing); such a time came in through a snapshot,
/// and through the library's `append`, which now refuses an `at` RFC 3339 cannot write.
@Suite struct ExtremeTimeRegressionTests {
    @Test func theTimeIndexAndPrintingTakeAnyTimestamp() {
        for micros in [Int64.min, Int64.min + 1, -1, 0, Int64.max] {
            var state = JobState(job: "j")
            state.status = .running
            state.version = 1
            state.attempt = 1
            state.attemptStartedAt = Timestamp(microseconds: micros)
            let projections = Projections(states: [state], coveredSeq: 1)
            #expect(projections.jobs(JobQuery(silentFor: 0, now: Timestamp(microseconds: .max))).count == 1)
            #expect(!Timestamp(microseconds: micros).rfc3339.isEmpty)
        }
        #expect(Timestamp(microseconds: -1).rfc3339 == "1969-12-31T23:59:59.999999Z")
    }

    @Test func anAppendWhoseTimeRFC3339CannotWriteIsRefused() async throws {
        try await withLogbook { (logbook: Logbook, _: String) async throws -> Void in
            for micros in [Int64.min, Timestamp.rfc3339Range.upperBound.microseconds + 1] {
                await #expect(throws: JournalError.self) {
                    try await logbook.append(Event(job: "j", type: .created, at: Timestamp(microseconds: micros)))
                }
            }
            let edge = try await logbook.append(Event(job: "j", type: .created, at: Timestamp.rfc3339Range.upperBound))
            #expect(edge.events[0].at.rfc3339 == "9999-12-31T23:59:59.999999Z")
            #expect(Timestamp(rfc3339: "0000-01-01T00:00:00Z") == Timestamp.rfc3339Range.lowerBound)
        }
    }
}
