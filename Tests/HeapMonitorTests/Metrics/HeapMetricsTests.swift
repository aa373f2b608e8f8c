@testable import HeapMonitor
import HeapMonitorMetrics
import Logging
import Prometheus
import ServiceLifecycle
import Testing

/// Instances of 464 bytes: among the census's largest classes in this process.
final class MetricsLarge {
    var words: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    var padding: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var tail: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var end: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

final class MetricsMedium {
    var words: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

/// The exposition text's value of `metric` for `label`, if exported.
private func value(of metric: String, class label: String, in text: String) -> Double? {
    let prefix = "\(metric){class=\"\(label)\"} "
    return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
}

extension TrackerSuite {
    /// The gauges through a real backend: swift-prometheus's registry and
    /// the text it serves to a scraper.
    @Suite("Heap metrics")
    struct HeapMetricsTests {
        @Test func theLargestClassesAndOtherAreExportedWithBoundedCardinality() throws {
            _ = freshTracker()
            let registry = PrometheusCollectorRegistry()
            let metrics = try HeapMetrics(classLimit: 2, factory: PrometheusMetricsFactory(registry: registry))
            let large = (0..<keep(1_000)).map { _ in MetricsLarge() }
            var medium = (0..<keep(1_000)).map { _ in MetricsMedium() }
            metrics.update()
            var text = registry.emitToString()
            let largeName = String(reflecting: MetricsLarge.self), mediumName = String(reflecting: MetricsMedium.self)
            #expect(value(of: "swift_heap_live_objects", class: largeName, in: text) == 1_000)
            #expect(value(of: "swift_heap_live_bytes", class: largeName, in: text).map { $0 >= 1_000 * 400 } == true)
            #expect(value(of: "swift_heap_live_objects", class: mediumName, in: text) == 1_000)
            #expect(value(of: "swift_heap_live_objects", class: HeapMetrics.otherClasses, in: text) != nil)
            let series = text.split(separator: "\n").filter { $0.hasPrefix("swift_heap_live_objects{") }
            #expect(series.count == 3, "two classes by name and other")
            #expect(text.contains("swift_heap_allocator_bytes ") && text.contains("swift_heap_monitor_bytes "))

            // A class that leaves the top two loses its series.
            medium.removeAll()
            metrics.update()
            text = registry.emitToString()
            #expect(value(of: "swift_heap_live_objects", class: mediumName, in: text) == nil)
            #expect(text.split(separator: "\n").filter { $0.hasPrefix("swift_heap_live_objects{") }.count == 3)
            _ = keep(large)
        }

        /// In a group, as servers run it: it updates until the group shuts
        /// down gracefully, then ends without failing the group; cancelled
        /// alone, it returns too.
        @Test func theServiceUpdatesUntilItsGroupShutsDown() async throws {
            _ = freshTracker()
            let registry = PrometheusCollectorRegistry()
            let metrics = try HeapMetrics(classLimit: 5, factory: PrometheusMetricsFactory(registry: registry))
            let service = HeapMetricsService(metrics: metrics, interval: .milliseconds(10))
            let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
            let running = Task { try await group.run() }
            try await Task.sleep(for: .milliseconds(200))
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(registry.emitToString().contains("swift_heap_allocator_bytes "))

            let alone = Task { try await service.run() }
            try await Task.sleep(for: .milliseconds(50))
            alone.cancel()
            try await alone.value
        }
    }
}
