import HeapMonitor
import ServiceLifecycle

/// Takes a sized snapshot of the serving process every `interval`, and a leak
/// scan every fourth time, while requests are in flight: each in a forked
/// child (the tracker's default isolation).
actor LiveAnalysis: Service {
    private let interval: Duration
    private(set) var snapshots = 0
    private(set) var scans = 0
    private(set) var failures: [String] = []
    private(set) var mostCycles = 0
    /// The most objects one live snapshot sized, and their bytes.
    private(set) var mostSized = (objects: 0, bytes: 0)

    init(every interval: Duration) { self.interval = interval }

    func run() async throws {
        let tracker = Tracker.shared
        while !Task.isShuttingDownGracefully {
            do {
                let snapshot = try tracker.takeSnapshot(named: "live")
                snapshots += 1
                if snapshot.objects.count > mostSized.objects {
                    mostSized = (snapshot.objects.count, snapshot.trackedBytes)
                }
                if snapshots % 4 == 0 {
                    let report = try tracker.findLeaks()
                    scans += 1
                    mostCycles = max(mostCycles, report.cycles.count)
                }
            } catch {
                failures.append("\(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }
}
