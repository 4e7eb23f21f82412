import ConcurrencyKit
import Foundation
import Logbook
import Logging
import PostgresNIO
import Synchronization

/// Finding the primary among the members, and doubting it after a failure that may mean it changed.
extension PostgresLog {
    /// The primary's client: the only member, or the first member to answer that it is not in
    /// recovery. Members are asked at once, so a dead one (whose pool may wait for ever) does not
    /// hold up the answer of a live one.
    func primary() async throws -> PostgresClient {
        if let i = primaryState.withLock({ $0.current }) { return members[i] }
        if members.count == 1 {
            // A pool that cannot connect retries quietly until the caller's bound: a direct
            // connection says why at once (no such socket, refused, password…).
            if let failure = await connectFailure(0) { throw failure }
            primaryState.withLock { ($0.current, $0.last) = (0, 0) }
            return members[0]
        }
        // A dead member's pool keeps trying to connect: a short bound on each probe, so the caller's
        // retries (which ask again) go on while a standby is promoted.
        let (members, names, limit, logger) = (self.members, memberNames, min(answerLimit, Self.probeLimit), self.logger)
        // The first member to say it is not in recovery wins (the other probes are cancelled, which
        // ends their waits at once); when every member has answered otherwise, the search fails
        // with all their answers.
        let search = await withTaskGroup(of: (member: Int, notPrimary: String?).self) { group -> Result<Int, SharedLogError> in
            for (i, member) in members.enumerated() {
                group.addTask {
                    do {
                        let standby = try await withDeadline(limit, timeout: SharedLogError.unavailable("no answer within \(limit)")) {
                            if let failure = await self.connectFailure(i) { throw failure }
                            let rows = try await member.query("SELECT pg_is_in_recovery()", logger: logger)
                            var inRecovery = true
                            for try await value in rows.decode(Bool.self) { inRecovery = value }
                            return inRecovery
                        }
                        return (i, standby ? "\(names[i]): a standby" : nil)
                    } catch {
                        return (i, "\(names[i]): \(Self.classify(error))")
                    }
                }
            }
            var answers: [String] = []
            for await (i, notPrimary) in group {
                guard let notPrimary else {
                    group.cancelAll()
                    return .success(i)
                }
                answers.append(notPrimary)
            }
            return .failure(.unavailable("no primary among the members (\(answers.joined(separator: "; ")))"))
        }
        let index = try search.get()
        primaryState.withLock { state in
            if let last = state.last, last != index {
                state.failovers += 1
                state.lastFailover = .init(at: Logbook.systemClock(), from: names[last], to: names[index])
                state.cluster?.timeline = nil  // the new primary's timeline is this failover's, not another
                logger.warning("PostgreSQL primary changed", metadata: ["from": "\(names[last])", "to": "\(names[index])"])
            }
            (state.current, state.last) = (index, index)
        }
        return members[index]
    }

    static let probeLimit: Duration = .seconds(2)

    /// Why a new connection to member `i` cannot be made, found by making one directly; nil when it
    /// can (or when the caller gave the client). Asked only while no member is known to answer.
    func connectFailure(_ i: Int) async -> SharedLogError? {
        guard i < directConfigurations.count else { return nil }
        var configuration = directConfigurations[i]
        configuration.options.connectTimeout = .seconds(Int64(min(answerLimit, Self.probeLimit).components.seconds))
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            let member = members.count == 1 ? "" : "\(memberNames[i]): "  // one member: the log's name says it
            return switch Self.classify(error) {
            case .unavailable(let why), .outcomeUnknown(let why): .unavailable(member + why)
            case .failed(let why): .failed(member + why)
            case .incompatible(let why): .incompatible(member + why)
            case .storageFull(let why): .storageFull(member + why)
            }
        }
    }

    /// Forgets which member is the primary (after a failure: it may have failed over).
    func doubtPrimary() {
        primaryState.withLock { $0.current = nil }
    }

}

/// Which member is the primary, as far as one log knows.
struct PrimaryState: Sendable {
    /// The primary, until a failure makes it doubtful.
    var current: Int?
    /// The last member found to be the primary: finding another is a failover.
    var last: Int?
    var failovers = 0
    var lastFailover: SharedLogTopology.Failover?
    /// The cluster reads have come from: its system identifier and, while it is a primary, its
    /// timeline (`noteCluster`).
    var cluster: (system: String, timeline: String?)?
}
