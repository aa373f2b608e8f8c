import Foundation
import HeapMonitor

/// A day of background snapshots at the hosts' default 20 ms, under the
/// default thinning. Measured: the size of a record without and with the
/// census (written by the tracker to a real profile) and the monitor's
/// growth meanwhile; computed from the thinning: how many records a day
/// keeps (every one for `fullRateSpan`, then one a window) and how many of
/// them carry a census (one per `censusInterval`).
struct DayOfBackground {
    var plainRecordBytes: Double
    var censusRecordBytes: Double
    var records: Int
    var profileBytes: Int
    var monitorBytes: Int
    var monitorGrowth: Int

    static func measure(over span: Double = 2) throws -> DayOfBackground {
        let tracker = Tracker.shared
        let monitorBefore = tracker.monitorBytes
        tracker.stopCensus()
        let plain = try recordBytes(over: span)
        try tracker.startCensus()
        let withCensus = try recordBytes(over: span / 4)
        let monitorAfter = tracker.monitorBytes
        let policy = BackgroundThinning()
        let day = 86_400.0, interval = 0.02
        let full = min(day, policy.fullRateSpan.inSeconds)
        let records = Int(full / interval) + Int((day - full) / policy.window.inSeconds)
        let censuses = Int(day / max(interval, policy.censusInterval.inSeconds))
        let bytes = Double(records) * plain + Double(censuses) * (withCensus - plain)
        return DayOfBackground(
            plainRecordBytes: plain, censusRecordBytes: withCensus, records: records, profileBytes: Int(bytes),
            monitorBytes: monitorAfter, monitorGrowth: monitorAfter - monitorBefore)
    }

    /// Bytes a background record takes in a profile, every one kept (with
    /// the census in each while the census is on).
    private static func recordBytes(over span: Double) throws -> Double {
        let tracker = Tracker.shared
        let path = NSTemporaryDirectory() + "heapmonitor-bench-day-\(getpid()).hmprof"
        defer { unlink(path) }
        tracker.backgroundThinning = .none
        defer { tracker.backgroundThinning = BackgroundThinning() }
        try tracker.startProfile(at: path)
        let empty = fileSize(path)
        tracker.startPeriodicSnapshots(every: .milliseconds(1), description: "background")
        Thread.sleep(forTimeInterval: span)
        tracker.stopPeriodicSnapshots()
        try tracker.stopProfile()
        let stats = try MemStats(loading: [path])
        let count = stats.profiles.first?.snapshots.filter(\.isBackground).count ?? 0
        tracker.discardSnapshots()
        return Double(fileSize(path) - empty) / Double(max(1, count))
    }

    private static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
