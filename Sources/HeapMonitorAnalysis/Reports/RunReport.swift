import HeapMonitorModel

/// The reports printed at the end of a monitored run, read from its
/// profile: what `HostMonitor.finish()` and `heapmonitor run` print.
///
/// ```swift
/// let report = RunReport(profile: try Profile.load(from: "run.hmprof"))
/// print(report.trackedObjects)
/// if let leaks = report.leaks { print(leaks.description) }
/// ```
public struct RunReport: Sendable {
    /// The profile reported on.
    public let profile: Profile

    /// A report of `profile`.
    public init(profile: Profile) { self.profile = profile }

    /// The 20 largest tracked objects at the last snapshot, then the
    /// per-class summary.
    public var trackedObjects: String {
        let stats = MemStats(profiles: [profile])
        var sorted = stats
        sorted.sort(by: [.size])
        return "HeapMonitor: tracked objects, the 20 largest of \(stats.count)\n"
            + StatsReport.objects(sorted.limited(to: 20))
            + "\n\n" + StatsReport.summary(stats)
    }

    /// Process memory at the run's instants (background samples left out).
    public var processMemory: String {
        "HeapMonitor: process memory\n" + StatsReport.memory(profile, background: false)
    }

    /// Who holds the memory in the last heap graph, if one was taken.
    public var holders: String? {
        profile.heapGraphs.last.map { HeapGraphAnalysis($0.graph).whoHoldsTheMemory() }
    }

    /// The last leak scan, if one ran.
    public var leaks: LeakReport? { profile.leakScans.last?.report }
}
