// A Hummingbird 2 server monitored as a deployment would be: switches from
// HEAPMONITOR (`--debug=control` opens the socket `heapmonitor census PID`
// and the other live commands ask), heap gauges for Prometheus on /metrics,
// updated by HeapMetricsService in the app's ServiceGroup. GET /login opens
// a session that is never closed: the growth to find.
import Foundation
import HeapMonitor
import HeapMonitorMetrics
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization

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

let monitor = try HostMonitor(switches: MonitorSwitches(environment: nil), classes: [Session.self])
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
let metrics = try HeapMetrics(classLimit: 20)

let router = Router()
router.get("login") { _, _ in "session \(SessionStore.shared.open())\n" }
router.get("metrics") { _, _ in registry.emitToString() }
let logger = Logger(label: "example")
let port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8080
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { logger.notice("listening on \($0.localAddress?.port ?? 0)") })
try await ServiceGroup(
    configuration: .init(
        services: [app, HeapMetricsService(metrics: metrics, interval: .seconds(1))],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
).run()
try monitor.finish()
