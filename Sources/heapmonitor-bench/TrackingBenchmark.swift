import ArgumentParser
import HeapMonitor

/// The tracking workload's class: small, final, allocated and freed in a loop.
final class Small {
    var x: Int
    init(_ x: Int) { self.x = x }
}

/// A class that is tracked while `Small` is not, so that the hooks are busy.
final class Other {
    var x = 0
}

/// Makes the object escape, so that it is allocated on the heap.
@_optimize(none) func escape(_ object: Small) {}

/// `tracking`: cost per allocation and deallocation of `Small` with no hooks,
/// with hooks but `Small` untracked, tracked, and tracked with traces; then
/// the monitor's memory per live tracked object. Also, beyond the contract's
/// modes, hooks installed with nothing to record (`idle_ns`): the floor of a
/// hook that passes the call on, which the untracked mode pays too.
struct TrackingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracking",
        abstract: "Allocation cost under the hooks, and memory per tracked object.")

    @Option(help: "Allocations per timed loop.")
    var ops = 10_000_000

    @Option(help: "Live objects for the memory figure.")
    var liveObjects = 1_000_000

    @Option(help: "Timed repetitions (the median is reported).")
    var repetitions = 5

    func validate() throws {
        guard ops > 0, liveObjects > 0 else { throw ValidationError("--ops and --live-objects must be positive") }
    }

    func run() throws {
        let tracker = Tracker.shared
        let ops = self.ops
        func loop() {
            for index in 0..<ops { escape(Small(index)) }
        }
        // Each mode sets the hooks up, runs the loop, and applies every event
        // it caused (the monitor's whole cost, not only the hot path's).
        func mode(_ setUp: @escaping () throws -> Void) -> () -> Void {
            return {
                tracker.clear()
                try! setUp()
                loop()
                _ = tracker.liveObjectCount
            }
        }
        let times = medianNanoseconds(
            repetitions: repetitions,
            [
                mode { tracker.uninstallHooks() },
                mode {
                    try tracker.installHooks(); try tracker.track(class: Other.self)
                },
                mode {
                    try tracker.installHooks(); try tracker.track(class: Small.self)
                },
                mode {
                    try tracker.installHooks(); try tracker.track(class: Small.self, trace: true)
                },
                mode { try tracker.installHooks() },
            ]
        ).map { $0 / Double(ops) }
        tracker.clear()
        let bytesPerTracked = try memoryPerTrackedObject(tracker)

        print("ops: \(ops)")
        print("no hooks:              \(rounded(times[0])) ns per allocation and release")
        print("hooks, class untracked: \(rounded(times[1])) ns (\(rounded(times[1] / times[0]))x)")
        print("class tracked:          \(rounded(times[2])) ns (\(rounded(times[2] / times[0]))x)")
        print("tracked with traces:    \(rounded(times[3])) ns (\(rounded(times[3] / times[0]))x)")
        print("hooks, nothing tracked: \(rounded(times[4])) ns (\(rounded(times[4] / times[0]))x)")
        print("monitor memory: \(rounded(bytesPerTracked)) bytes per live tracked object (\(liveObjects) objects)")
        printResult(
            bench: "tracking",
            [
                "ops": Double(ops), "baseline_ns": times[0], "untracked_ns": times[1],
                "tracked_ns": times[2], "traced_ns": times[3], "bytes_per_tracked": bytesPerTracked,
                "idle_ns": times[4],
            ])
    }

    /// The allocator's growth while `liveObjects` tracked objects are created
    /// and recorded, less the objects' own bytes, per object.
    private func memoryPerTrackedObject(_ tracker: Tracker) throws -> Double {
        try tracker.track(class: Small.self)
        _ = tracker.liveObjectCount
        let before = allocatorInUse()
        var objects: [Small] = []
        objects.reserveCapacity(liveObjects)
        for index in 0..<liveObjects { objects.append(Small(index)) }
        let recorded = tracker.objects.count
        let after = allocatorInUse()
        guard recorded == liveObjects else { throw ValidationError("tracked \(recorded) of \(liveObjects) objects") }
        let own = deepSize(of: objects)
        tracker.clear()
        return Double(after - before - own) / Double(liveObjects)
    }
}

func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
