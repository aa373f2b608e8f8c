import ArgumentParser
import CoreMetrics
import Foundation
import HeapMonitor
import HeapMonitorMetrics

/// `control`: a census served over the control socket by a child process
/// holding N objects of C classes, a metrics update at the same heap, the
/// idle metrics Service's CPU, and a long run's profile and monitor bytes.
struct ControlBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control", abstract: "The control channel, the metrics and a long run's bounds.")

    @Option(help: "Live objects in the monitored process.")
    var objects = 1_000_000

    @Option(help: "Classes they are spread over (at most 1000).")
    var classes = 1_000

    @Option(help: "Seconds the idle metrics Service is watched (at a 15 s interval).")
    var serviceSeconds = 60

    func validate() throws {
        guard objects > 0, (1...1_000).contains(classes), serviceSeconds > 0 else {
            throw ValidationError("--objects and --service-seconds must be positive, --classes 1 to 1000")
        }
    }

    func run() throws {
        let host = try ControlHost.launch(objects: objects, classes: classes)
        defer { host.stop() }
        let client = ControlClient(pid: host.pid)
        var census = LiveCensus(time: .zero, memory: .init(virtualBytes: 0, residentBytes: 0, allocatorBytes: 0),
                                entries: [], classCount: 0, liveCount: 0, liveBytes: 0)
        // The first census starts the count: the host's objects, all made
        // before it, are found by one walk of its heap (forked).
        let first = ContinuousClock.now
        census = try client.census(limit: 0)
        let firstMs = (ContinuousClock.now - first) / .milliseconds(1)
        print("first census, which walks the heap for the \(census.liveCount) objects made before it: "
              + "\(rounded(firstMs)) ms (RSS \(ByteCount.format(census.memory.residentBytes)))")
        let censusNs = medianNanoseconds([{ census = (try? client.census(limit: 0)) ?? census }])[0]
        guard census.liveCount >= objects else {
            throw ValidationError("the census counted \(census.liveCount) of \(objects) objects")
        }
        print("census of \(census.liveCount) objects in \(census.classCount) classes served in "
              + "\(rounded(censusNs / 1e6)) ms (request, reply, parsed; median of 5)")

        // The same heap here, for the metrics update and the Service.
        let tracker = Tracker.shared
        tracker.clear()
        let metrics = try HeapMetrics(classLimit: 20, factory: NOOPMetricsHandler.instance)
        let held = ControlHost.allocate(objects: objects, classes: classes)
        let updateNs = medianNanoseconds(repetitions: 20, [{ metrics.update() }])[0]
        print("metrics update (top 20 + other) at \(objects) objects: \(rounded(updateNs / 1e6)) ms (median of 20)")
        let cpu = try serviceCPU(metrics)
        print("idle metrics Service at a 15 s interval: \(rounded(cpu)) % of a core over \(serviceSeconds) s")

        let day = try DayOfBackground.measure()
        withExtendedLifetime(held) {}
        print("a day of background snapshots at 20 ms: \(day.records) records kept, "
              + "\(ByteCount.format(day.profileBytes)) of profile (records of \(rounded(day.plainRecordBytes)) bytes, "
              + "\(rounded(day.censusRecordBytes)) with the census of \(classes) classes, one in 10 minutes); "
              + "monitor \(ByteCount.format(day.monitorBytes)), \(day.monitorGrowth) bytes more after the samples")
        printResult(
            bench: "control",
            [
                "objects": Double(objects), "classes": Double(classes), "census_ms": censusNs / 1e6,
                "metrics_update_ms": updateNs / 1e6, "service_cpu_percent": cpu,
                "day_profile_bytes": Double(day.profileBytes), "day_monitor_bytes": Double(day.monitorBytes),
            ])
    }

    /// The process's CPU time while the Service idles between updates, as a
    /// percentage of one core.
    private func serviceCPU(_ metrics: HeapMetrics) throws -> Double {
        let service = HeapMetricsService(metrics: metrics, interval: .seconds(15))
        let task = Task { try await service.run() }
        let start = ContinuousClock.now, before = cpuSeconds()
        Thread.sleep(forTimeInterval: Double(serviceSeconds))
        let used = cpuSeconds() - before, wall = ContinuousClock.now - start
        task.cancel()
        return used / wall.inSeconds * 100
    }
}

/// User and system CPU seconds of this process.
private func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

