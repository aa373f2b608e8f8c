import ArgumentParser
import HeapMonitor

/// `heapmonitor memory`: the process's memory at every snapshot.
struct MemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "The process's memory at the program's snapshots, a summary of the background ones, and its peaks."
    )

    @OptionGroup var options: ProfileOptions

    @Flag(help: "List the background snapshots too (a monitored server takes one every 20 ms by default).")
    var all = false

    func run() throws {
        let stats = try options.load()
        guard let profile = stats.profiles.first else { return }
        let listed = profile.snapshots.filter { all || !$0.isBackground }
        try options.emit(listed.map { MemoryRow(snapshot: $0) }) { StatsReport.memory(profile, background: all) }
    }

    private struct MemoryRow: Encodable {
        var time: Double, description: String, virtualBytes: Int, residentBytes: Int, allocatorBytes: Int,
            trackedBytes: Int

        init(snapshot: Snapshot) {
            time = snapshot.time.inSeconds
            description = snapshot.description
            virtualBytes = snapshot.memory.virtualBytes
            residentBytes = snapshot.memory.residentBytes
            allocatorBytes = snapshot.memory.allocatorBytes
            trackedBytes = snapshot.trackedBytes
        }
    }
}
