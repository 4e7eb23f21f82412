import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL 15 for tests: `initdb` into a temporary directory (trust authentication,
/// superuser `postgres`), started with `pg_ctl` on a unix socket in that directory only (no TCP),
/// stopped and removed by `stop()`. As root it runs the server as the `postgres` user (PostgreSQL
/// refuses to run as root). `available` says whether Debian's binaries are installed.
public final class PostgresServer: @unchecked Sendable {
    public static let binaries = "/usr/lib/postgresql/15/bin"
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: binaries + "/pg_ctl") }

    public let directory: TemporaryDirectory
    /// The directory holding the socket `.s.PGSQL.5432`.
    public var socketDirectory: String { directory.path }
    public var socketPath: String { directory.path + "/.s.PGSQL.5432" }
    private var data: String { directory.file("data") }
    /// The URL Logbook takes (`--postgres`): the unix socket, user postgres, database postgres, and
    /// a patient answer limit (a loaded test machine can take seconds to answer).
    public var url: String { "postgresql://postgres@/postgres?host=\(socketDirectory)&connect_timeout=300" }

    private let prefix: [String]

    /// A new server; with `standbyOf`, a streaming standby of that server (`pg_basebackup -R`), which
    /// `promote()` makes a primary; with `in`, its files in a directory under `parent` (a small
    /// filesystem, say).
    public init(standbyOf primary: PostgresServer? = nil, in parent: String? = nil) throws {
        directory = TemporaryDirectory("pg", in: parent)
        var prefix: [String] = []
        if getuid() == 0 {
            guard let user = getpwnam("postgres") else { throw ServerError("running as root needs a postgres user") }
            chown(directory.path, user.pointee.pw_uid, user.pointee.pw_gid)
            prefix = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        }
        self.prefix = prefix
        if let primary {
            try run("pg_basebackup", ["-D", data, "-h", primary.socketDirectory, "-U", "postgres", "-R", "-X", "stream"])
        } else {
            try run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        }
        try start()
    }

    private func run(_ tool: String, _ args: [String]) throws {
        let command = prefix.isEmpty ? Self.binaries + "/" + tool : prefix[0]
        let arguments = prefix.isEmpty ? args : Array(prefix.dropFirst()) + [Self.binaries + "/" + tool] + args
        let status = spawnWithoutInheritance(command, arguments, log: directory.file("server.log"))
        guard status == 0 else {
            let log = (try? String(contentsOfFile: directory.file("server.log"), encoding: .utf8)) ?? ""
            throw ServerError("\(tool) failed (status \(status)): \(log.suffix(2000))")
        }
    }

    private func start() throws {
        let options = "-k \(directory.path) -c listen_addresses='' -c fsync=off -c max_connections=50"
        try run("pg_ctl", ["-D", data, "-o", options, "-w", "-t", "120", "-l", directory.file("postgres.log"), "start"])
    }

    /// Runs one SQL statement with psql.
    public func sql(_ statement: String) throws {
        try run("psql", ["-h", socketDirectory, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", statement])
    }

    /// Makes every commit wait until a standby has it (`synchronous_standby_names = '*'`).
    public func requireSynchronousStandby() throws {
        try sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        try sql("SELECT pg_reload_conf()")
    }

    /// Stops the server as a crash would (`-m immediate`), keeping its files.
    public func crash() {
        _ = try? run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
    }

    /// Ends recovery: a standby becomes a primary.
    public func promote() throws {
        try run("pg_ctl", ["-D", data, "-w", "-t", "120", "promote"])
    }

    public func stop() {
        crash()
        directory.cleanup()
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
