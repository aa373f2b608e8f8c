import CoreMetrics
import HeapMonitor
import Synchronization

/// A running program's heap as swift-metrics gauges, for fleet dashboards:
/// live objects and bytes of the `classLimit` classes with the most bytes,
/// the rest summed as one `other` series (bounded cardinality), the
/// allocator's bytes in use and the monitor's own bytes.
///
/// | metric | labels | meaning |
/// |---|---|---|
/// | `swift_heap_live_objects` | `class` | live instances |
/// | `swift_heap_live_bytes` | `class` | bytes the allocator holds for them |
/// | `swift_heap_allocator_bytes` | | malloc's bytes in use |
/// | `swift_heap_monitor_bytes` | | HeapMonitor's own bytes |
///
/// ```swift
/// let metrics = try HeapMetrics(classLimit: 20)   // starts the census
/// metrics.update()                                // or HeapMetricsService
/// ```
///
/// A class that leaves the top `classLimit` has its series destroyed, so
/// a backend exports at most `classLimit + 1` series per metric.
public final class HeapMetrics: Sendable {
    /// Classes exported by name; the rest are `other`.
    public let classLimit: Int
    private let tracker: Tracker
    private let factory: any MetricsFactory
    private let series = Mutex<[String: (objects: Gauge, bytes: Gauge)]>([:])
    private let allocatorBytes: Gauge
    private let monitorBytes: Gauge

    /// The label of the series that sums the classes not exported by name.
    public static let otherClasses = "other"

    /// Gauges for `tracker`'s census (started here, with the instances
    /// alive already found by one walk of the heap in a forked child; if
    /// that walk fails the gauges count from now, until a census asked over
    /// the control channel walks again), made by `factory` (the
    /// bootstrapped metrics system by default).
    ///
    /// - Throws: `HookError` when the census cannot start.
    public init(
        tracker: Tracker = .shared, classLimit: Int = 20, factory: any MetricsFactory = MetricsSystem.factory
    ) throws(HookError) {
        try tracker.startCensus()
        _ = try? tracker.countInstancesAliveBeforeCensus()
        self.tracker = tracker
        self.classLimit = max(0, classLimit)
        self.factory = factory
        allocatorBytes = Gauge(label: "swift_heap_allocator_bytes", factory: factory)
        monitorBytes = Gauge(label: "swift_heap_monitor_bytes", factory: factory)
    }

    /// Sets every gauge from the census as it is now.
    public func update() {
        let census = tracker.census()  // the most bytes first
        var rows = census.prefix(classLimit).map { ($0.className, $0.liveCount, $0.liveBytes) }
        let rest = census.dropFirst(classLimit)
        if !rest.isEmpty {
            rows.append((Self.otherClasses, rest.reduce(0) { $0 + $1.liveCount }, rest.reduce(0) { $0 + $1.liveBytes }))
        }
        series.withLock { series in
            var gone = Set(series.keys)
            for (name, count, bytes) in rows {
                gone.remove(name)
                let gauges = series[name] ?? makeGauges(forClass: name)
                series[name] = gauges
                gauges.objects.record(count)
                gauges.bytes.record(bytes)
            }
            for name in gone {
                series.removeValue(forKey: name).map { $0.objects.destroy(); $0.bytes.destroy() }
            }
        }
        allocatorBytes.record(allocatorInUse())
        monitorBytes.record(tracker.monitorBytes)
    }

    private func makeGauges(forClass name: String) -> (objects: Gauge, bytes: Gauge) {
        (
            Gauge(label: "swift_heap_live_objects", dimensions: [("class", name)], factory: factory),
            Gauge(label: "swift_heap_live_bytes", dimensions: [("class", name)], factory: factory)
        )
    }
}
