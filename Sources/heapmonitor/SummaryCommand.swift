import ArgumentParser
import HeapMonitor

/// `heapmonitor summary`: per snapshot, per class totals.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Per snapshot and class: count, total, average and share of the tracked bytes."
    )

    @OptionGroup var options: ProfileOptions

    @Option(
        help: ArgumentHelp(
            "Only this snapshot of each file (repeatable): \(SnapshotChoice.help).", valueName: "snapshot"))
    var snapshot: [String] = []

    func run() throws {
        let stats = try options.load()
        var rows = stats.summary()
        if !snapshot.isEmpty {
            var chosen: [Profile.ID: Set<Int>] = [:]
            for profile in stats.profiles {
                chosen[profile.id] = Set(try snapshot.map { try SnapshotChoice.index($0, in: profile.snapshots) })
            }
            rows = rows.filter { chosen[$0.profile]?.contains($0.snapshot) ?? false }
        }
        try options.emit(rows) { StatsReport.summary(rows, in: stats) }
    }
}
