import ArgumentParser
import HeapMonitor

/// `heapmonitor memory`: the process's memory at every snapshot.
struct MemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "The process's memory at every snapshot (background ones too), and its peaks."
    )

    @OptionGroup var options: ProfileOptions

    func run() throws {
        let stats = try options.load()
        guard let profile = stats.profiles.first else { return }
        try options.emit(profile.snapshots.map { MemoryRow(snapshot: $0) }) { StatsReport.memory(profile) }
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
