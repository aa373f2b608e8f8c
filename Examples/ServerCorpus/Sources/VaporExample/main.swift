// A Vapor 4 server monitored as a deployment would be: switches from
// HEAPMONITOR (`--debug=control` opens the socket `heapmonitor census PID`
// and the other live commands ask), heap gauges for Prometheus on /metrics,
// updated by HeapMetricsService beside the app in a ServiceGroup. GET /login
// opens a session that is never closed: the growth to find.
import Foundation
import HeapMonitor
import HeapMonitorMetrics
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import Vapor

/// One signed-in user; the store keeps it for good.
final class Session: Sendable {
    let id: Int
    let name: String

    init(id: Int) {
        self.id = id
        name = "user-\(id)"
    }
}

/// Every session opened.
final class SessionStore: Sendable {
    static let shared = SessionStore()
    private let sessions = Mutex<[Int: Session]>([:])

    func open() -> Int {
        sessions.withLock { sessions in
            let id = sessions.count + 1
            sessions[id] = Session(id: id)
            return id
        }
    }
}

/// The Vapor application as a Service: it serves until the group shuts
/// down gracefully (SIGTERM, SIGINT), then shuts Vapor down.
struct VaporService: Service {
    let app: Application

    func run() async throws {
        try await app.startup()
        app.logger.notice("listening on \(app.http.server.shared.localAddress?.port ?? 0)")
        try await withGracefulShutdownHandler {
            try await app.running?.onStop.get()
        } onGracefulShutdown: {
            app.running?.stop()
        }
        try await app.asyncShutdown()
    }
}

let logger = Logger(label: "example")
let monitor = try HostMonitor(switches: MonitorSwitches(environment: nil), classes: [Session.self])
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
let metrics = try HeapMetrics(classLimit: 20)

// Vapor's own command line would read ours: it gets only its name.
let app = try await Application.make(Environment(name: "production", arguments: ["vapor"]))
app.http.server.configuration.hostname = "127.0.0.1"
app.http.server.configuration.port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8080
app.get("login") { _ in "session \(SessionStore.shared.open())\n" }
app.get("metrics") { _ in registry.emitToString() }
// Vapor stops itself on SIGTERM too, so it may finish before the group asks
// it to: it is shut down first (the group goes in reverse order), and its
// finishing shuts the rest down instead of failing the group.
let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
    .init(service: HeapMetricsService(metrics: metrics, interval: .seconds(1))),
    .init(service: VaporService(app: app), successTerminationBehavior: .gracefullyShutdownGroup),
]
try await ServiceGroup(
    configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
).run()
try monitor.finish()
