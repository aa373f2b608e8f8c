import ServiceLifecycle

/// Updates `HeapMetrics` on an interval until its service group shuts down.
///
/// ```swift
/// let metrics = try HeapMetrics(classLimit: 20)
/// let group = ServiceGroup(
///     services: [app, HeapMetricsService(metrics: metrics)], logger: logger)
/// try await group.run()
/// ```
public struct HeapMetricsService: Service {
    public let metrics: HeapMetrics
    /// Time between updates (Prometheus scrapes every 15 s by default).
    public let interval: Duration

    public init(metrics: HeapMetrics, interval: Duration = .seconds(15)) {
        self.metrics = metrics
        self.interval = max(.milliseconds(1), interval)
    }

    /// Updates at once, then every `interval`; returns on graceful shutdown
    /// or cancellation.
    public func run() async throws {
        let metrics = metrics, interval = interval
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                metrics.update()
                // Woken by the shutdown: the service ends, not fails (a
                // thrown CancellationError would fail the whole group).
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
