#if canImport(Glibc)
import Glibc
#endif

/// Checks that `host:port` can be listened on before `serve` opens the journal, so a port in use is
/// reported at once, naming both, and no journal is opened or snapshot written for nothing. (The
/// port could still be taken between this probe and the real bind; that rarer case fails the bind.)
enum PortProbe {
    struct Unavailable: Error, CustomStringConvertible {
        var host: String
        var port: Int
        var reason: String
        var description: String { "cannot listen on \(host):\(port): \(reason)" }
    }

    static func check(host: String, port: Int) throws(Unavailable) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw Unavailable(host: host, port: port, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw Unavailable(host: host, port: port, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var one: Int32 = 1
        // As the real server does: SO_REUSEADDR lets a port in TIME_WAIT be reused, never a listened one.
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            let e = errno
            let reason = e == EADDRINUSE ? "the address is already in use" : String(cString: strerror(e))
            throw Unavailable(host: host, port: port, reason: reason)
        }
    }
}
