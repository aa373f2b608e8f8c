import ArgumentParser

/// `heapmonitor-bench NAME [options]`: the benchmarks of `BENCHMARKS.md`. Each
/// prints readable lines, then one JSON object as its last line.
@main
struct HeapMonitorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapmonitor-bench",
        abstract: "Benchmarks of HeapMonitor, as specified in BENCHMARKS.md.",
        discussion: "Build in release mode: swift run -c release heapmonitor-bench NAME",
        subcommands: [
            SizingBenchmark.self, TrackingBenchmark.self, SnapshotBenchmark.self, ProfileBenchmark.self,
            GarbageBenchmark.self, GraphBenchmark.self, LiveBenchmark.self, ControlBenchmark.self,
            ControlHostCommand.self, RunBenchmark.self,
        ]
    )
}
