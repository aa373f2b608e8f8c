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
            var chosen = Set<[Int]>()
            for (profile, loaded) in stats.profiles.enumerated() {
                for text in snapshot { chosen.insert([profile, try SnapshotChoice.index(text, in: loaded.snapshots)]) }
            }
            rows = rows.filter { chosen.contains([$0.profile, $0.snapshot]) }
        }
        try options.emit(rows) { StatsReport.summary(rows, in: stats) }
    }
}
