import HTTPTypes
import Hummingbird
import Lifecycle
import Logbook
import Logging
import NIOCore
import ServiceLifecycle

/// The HTTP API (docs/service.md). Every handler answers JSON; errors are `{"error": "..."}`.
public struct Routes: Sendable {
    let logbook: Logbook
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let clock: @Sendable () -> Timestamp
    /// Whether appends are being refused for want of space (`/healthz` says so).
    let storage = StorageAlarm()
    /// What retention did last, when the service runs it (`/healthz` says so).
    let retention: RetentionStatus?

    public init(
        logbook: Logbook, configuration: ServerConfiguration, metrics: ServerMetrics,
        clock: @escaping @Sendable () -> Timestamp = Logbook.systemClock, retention: RetentionStatus? = nil
    ) {
        self.logbook = logbook
        self.configuration = configuration
        self.metrics = metrics
        self.clock = clock
        self.retention = retention
    }

    /// The endpoints, for 405's `Allow` and for the OpenAPI test. Path segments starting with `:` are parameters.
    static let table: [(method: HTTPRequest.Method, path: String)] = [
        (.post, "jobs/:id/events"), (.post, "events"), (.get, "jobs/:id"), (.get, "jobs/:id/timeline"), (.get, "jobs"), (.get, "events"),
        (.get, "healthz"), (.get, "metrics"), (.get, "openapi.yaml"), (.get, "ui"), (.get, "ui/jobs/:id"),
        (.get, "ui/logbook.css"),
    ]

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        // First, so nothing (not even whether a route exists) is answered without the token.
        if let token = configuration.bearerToken { router.add(middleware: BearerAuthMiddleware(token: Array(token.utf8))) }
        // Then around every route and the not-found responder: refusals become JSON answers.
        router.add(middleware: APIErrorMiddleware(table: Routes.table))
        addAppends(to: router)  // Routes+Appends.swift
        addQueries(to: router)  // Routes+Queries.swift
        addLiveStream(to: router)  // Routes+LiveStream.swift
        addOperations(to: router)
        Pages(logbook: logbook, clock: clock).add(to: router)  // Pages.swift
        return router
    }

    /// `/healthz`, `/metrics`, `/openapi.yaml`: for operators and their tools.
    func addOperations(to router: Router<BasicRequestContext>) {
        router.get("healthz") { request, _ in
            _ = try Routes.query(request, allowed: [])
            let follower = self.logbook.maintenance.followerStatus()
            // A node whose follower stopped for good, or whose device failed a write, refuses appends:
            // 503, so a balancer takes it out.
            let stopped = follower?.stopped == true
            let health = Health(
                stopped: stopped, lastSeq: self.logbook.currentProjections.coveredSeq, storageFull: self.storage.current?.reason,
                writesStopped: self.logbook.maintenance.writesStoppedBy().map { "\($0)" }, follower: follower,
                retention: self.retention)
            return health.response(health.isStopped ? .serviceUnavailable : .ok)
        }
        router.get("openapi.yaml") { request, _ in
            _ = try Routes.query(request, allowed: [])
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml + "\n")))
        }
        router.get("metrics") { request, _ in
            _ = try Routes.query(request, allowed: [])
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: self.metrics.render(self.logbook))))
        }
    }
}

/// The service's HTTP application: the routes of `configuration` over `logbook`. `logbook serve` runs
/// it inside its service group; the tests drive the same application.
public func buildApplication(
    configuration: ServerConfiguration, logbook: Logbook, metrics: ServerMetrics = ServerMetrics(),
    clock: @escaping @Sendable () -> Timestamp = Logbook.systemClock, logger: Logger = Logger(label: "logbook"),
    retention: RetentionStatus? = nil
) -> Application<RouterResponder<BasicRequestContext>> {
    let routes = Routes(logbook: logbook, configuration: configuration, metrics: metrics, clock: clock, retention: retention)
    return Application(
        router: routes.router(),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "logbook"),
        logger: logger)
}
