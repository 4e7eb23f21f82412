import Foundation
import Logbook
import NIOSSL
import PostgresNIO

/// A `postgresql://` (or `postgres://`) URL: user, password, host, port, database, and the query
/// parameters `host` (a unix socket directory, as libpq has it) and `sslmode` (disable, prefer,
/// require, verify-full).
struct PostgresURL {
    var configuration: PostgresClient.Configuration
    /// The same server for one direct connection (`PostgresLog.connectFailure`).
    var connection: PostgresConnection.Configuration
    /// How long to wait for an answer (`connect_timeout`).
    var answerLimit: Duration
    /// Where the log is, without user or password (two nodes logging in differently follow one log).
    var name: String

    init(_ text: String) throws(JournalError) {
        func bad(_ why: String) -> JournalError { .sharedLog("PostgreSQL URL \(Self.redacted(text)): \(why)") }
        guard let url = URLComponents(string: text), let scheme = url.scheme else {
            throw bad("not a URL (expected postgresql://user@host:port/database)")
        }
        guard scheme == "postgresql" || scheme == "postgres" else { throw bad("scheme \"\(scheme)\" is not postgresql://") }
        let user = url.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = url.password.flatMap { $0.removingPercentEncoding }
        var database = String(url.path.drop(while: { $0 == "/" }))
        database = database.removingPercentEncoding ?? database
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        for key in query.keys where !["host", "sslmode", "port", "connect_timeout", "application_name"].contains(key) {
            throw bad("unknown parameter \"\(key)\" (known: host, port, sslmode, connect_timeout)")
        }
        answerLimit = .seconds(5)
        if let t = query["connect_timeout"] {
            guard let n = Int(t), (1...3600).contains(n) else { throw bad("connect_timeout \"\(t)\" is not a number of seconds (1 to 3600)") }
            answerLimit = .seconds(n)
        }
        var port = url.port ?? 5432
        if let p = query["port"] {
            guard let n = Int(p), (1...65535).contains(n) else { throw bad("port \"\(p)\" is not a port number") }
            port = n
        }
        let dbName = database.isEmpty ? user : database
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let socket = socketDirectory + "/.s.PGSQL.\(port)"
            configuration = .init(unixSocketPath: socket, username: user, password: password, database: dbName)
            connection = .init(unixSocketPath: socket, username: user, password: password, database: dbName)
            name = "postgresql:///\(dbName)?host=\(socketDirectory)&port=\(port)"
        } else {
            guard let host = url.host, !host.isEmpty else { throw bad("no host (postgresql://user@host/database, or ?host=/socket/dir)") }
            let sslmode = query["sslmode"] ?? "disable"
            var tlsConfiguration: TLSConfiguration?
            switch sslmode {
            case "disable": break
            case "prefer", "require":
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none
                tlsConfiguration = c
            case "verify-full": tlsConfiguration = .makeClientConfiguration()
            case let other: throw bad("sslmode \"\(other)\" (use disable, prefer, require or verify-full)")
            }
            // The pool and the direct connection each want TLS in their own type.
            var tls: PostgresClient.Configuration.TLS = .disable
            var directTLS: PostgresConnection.Configuration.TLS = .disable
            if let tlsConfiguration {
                let context: NIOSSLContext
                do { context = try NIOSSLContext(configuration: tlsConfiguration) } catch { throw bad("sslmode: \(error)") }
                (tls, directTLS) = sslmode == "prefer"
                    ? (.prefer(tlsConfiguration), .prefer(context)) : (.require(tlsConfiguration), .require(context))
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: dbName, tls: tls)
            connection = .init(host: host, port: port, username: user, password: password, database: dbName, tls: directTLS)
            name = "postgresql://\(host):\(port)/\(dbName)"
        }
    }

    static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}
