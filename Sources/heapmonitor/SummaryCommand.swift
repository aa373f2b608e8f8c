import ArgumentParser
import HeapMonitor

/// `heapmonitor summary`: per snapshot, per class totals.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Per snapshot and class: count, total, average and share of the tracked bytes."
    )

    @OptionGroup var options: ProfileOptions

    func run() throws {
        let stats = try options.load()
        try options.emit(stats.summary()) { StatsReport.summary(stats) }
    }
}
