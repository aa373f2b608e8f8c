import ArgumentParser
import Glibc
import HeapMonitor

/// The profile workload's class: objects of many sizes.
final class Blob {
    var payload: [UInt8]
    init(_ index: Int) { payload = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index % 97) }
}

/// `profile`: N tracked objects, S snapshots streamed to a profile file, then
/// the file loaded off-line and its ten largest objects printed.
struct ProfileBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Write, load and query a profile of N objects × S snapshots.")

    @Option(help: "Tracked objects.")
    var objects = 1_000_000

    @Option(help: "Snapshots written.")
    var snapshots = 10

    @Option(help: "Leave the profile at this path (otherwise it is deleted).")
    var keep: String?

    @Option(help: "Kill this process with SIGKILL right after this many snapshots (tests a killed writer's file).")
    var killAfter: Int?

    func validate() throws {
        guard objects > 0, snapshots > 0 else { throw ValidationError("--objects and --snapshots must be positive") }
    }

    func run() throws {
        let path = keep ?? "/tmp/heapmonitor-bench-\(getpid()).hmprof"
        let tracker = Tracker.shared
        // The in-process figure, comparable across versions; `live` sets it
        // beside the forked one.
        tracker.clear()
        tracker.isolation = .inProcess
        try tracker.track(class: Blob.self)
        let blobs = (0..<objects).map(Blob.init)
        try tracker.startProfile(at: path)
        let writeStart = ContinuousClock.now
        for index in 0..<snapshots {
            // Grow a tenth of the objects between snapshots, so sizes change.
            if index > 0 {
                for blob in blobs[(index * objects / 10 % objects)...].prefix(objects / 10) { blob.payload.append(1) }
            }
            try! tracker.takeSnapshot(named: "snapshot \(index)")
            if let killAfter, index + 1 == killAfter { kill(getpid(), SIGKILL) }
        }
        try tracker.stopProfile()
        let writeMs = milliseconds(ContinuousClock.now - writeStart)
        withExtendedLifetime(blobs) {}
        tracker.clear()

        var status = stat()
        stat(path, &status)
        let fileBytes = Int(status.st_size)
        let loadStart = ContinuousClock.now
        var stats = try MemStats(loading: [path])
        let loadMs = milliseconds(ContinuousClock.now - loadStart)
        let statsStart = ContinuousClock.now
        stats.sort(by: [.size])
        let report = StatsReport.objects(stats.limited(to: 10))
        let statsMs = milliseconds(ContinuousClock.now - statsStart)
        if keep == nil { unlink(path) }

        print(report)
        print(
            "objects: \(objects), snapshots: \(snapshots); profile \(ByteCount.format(fileBytes)) (\(fileBytes) bytes)")
        print("snapshots and writing: \(writeMs) ms; load: \(loadMs) ms; sort and print ten: \(statsMs) ms")
        printResult(
            bench: "profile",
            [
                "objects": Double(objects), "snapshots": Double(snapshots), "write_ms": writeMs,
                "file_bytes": Double(fileBytes), "load_ms": loadMs, "stats_ms": statsMs,
            ])
    }

    private func milliseconds(_ duration: Duration) -> Double {
        (Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15 * 1).rounded() / 1
    }
}
