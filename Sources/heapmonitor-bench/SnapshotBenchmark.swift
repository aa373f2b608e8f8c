import ArgumentParser
import HeapMonitor
import HeapMonitorSamples

/// `snapshot`: one snapshot of an N-node tree whose `Node` class is tracked,
/// at resolution levels 0, 1 and 2.
struct SnapshotBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Snapshot cost per tracked object at levels 0-2.")

    @Option(help: "Nodes in the tree, each one tracked.")
    var objects = 100_000

    @Option(help: "Timed repetitions (the median is reported).")
    var repetitions = 5

    func validate() throws {
        guard objects > 0 else { throw ValidationError("--objects must be positive") }
    }

    func run() throws {
        let tracker = Tracker.shared
        // The in-process figure, comparable across versions; `live` sets it
        // beside the forked one.
        tracker.clear()
        tracker.isolation = .inProcess
        try tracker.track(class: Node.self)
        let root = buildNodeTree(count: objects)
        guard tracker.liveObjectCount == objects else {
            throw ValidationError("tracked \(tracker.liveObjectCount) nodes")
        }
        var bytes = [0, 0, 0]
        let times = medianNanoseconds(
            repetitions: repetitions,
            (0...2).map { level in
                {
                    try! tracker.track(class: Node.self, resolutionLevel: level)
                    bytes[level] = try! tracker.takeSnapshot(named: "level \(level)").trackedBytes
                    tracker.discardSnapshots()
                }
            }
        ).map { $0 / Double(objects) }
        withExtendedLifetime(root) {}
        tracker.clear()

        print("objects: \(objects); tracked bytes \(bytes[0]) (deep size of the tree: \(deepSize(of: root)))")
        for level in 0...2 { print("level \(level): \(rounded(times[level])) ns per object") }
        printResult(
            bench: "snapshot",
            [
                "objects": Double(objects), "level0_ns_per_object": times[0],
                "level1_ns_per_object": times[1], "level2_ns_per_object": times[2],
            ])
    }
}
