import ArgumentParser
import HeapMonitor

/// `heapmonitor`: memory insight for Swift programs.
struct HeapMonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapmonitor",
        abstract: "Memory insight for Swift programs on Linux.",
        discussion: """
            Sizes Swift values as the allocator holds them, with a per-referent
            breakdown. `heapmonitor sample` sizes a built-in object graph;
            `stats`, `summary`, `diff`, `object`, `memory` and `html` analyse
            profile files; `ps`, `status`, `census`, `top`, `snapshot`,
            `leaks`, `track` and `untrack` ask a running process that serves
            the control socket (--debug=control). `retainers`, `dominators`
            and `suspects` answer who holds memory, from a heap graph in a
            profile (--debug=heapgraph) or asked of a running process.
            """,
        version: HeapMonitorVersion.current,
        subcommands: [
            SampleCommand.self, StatsCommand.self, SummaryCommand.self, DiffCommand.self, ObjectCommand.self,
            HTMLCommand.self, MemoryCommand.self, PsCommand.self, StatusCommand.self, CensusCommand.self,
            TopCommand.self, LiveSnapshotCommand.self, LeaksCommand.self, TrackCommand.self, UntrackCommand.self,
            RetainersCommand.self, DominatorsCommand.self, SuspectsCommand.self, SitesCommand.self,
            FoldedCommand.self, RunCommand.self,
        ]
    )
}
