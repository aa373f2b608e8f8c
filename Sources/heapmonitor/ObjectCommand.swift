import ArgumentParser
import HeapMonitor

/// `heapmonitor object`: one tracked object in detail.
struct ObjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "object",
        abstract: "One tracked object: its sizes over time, its trace and its referents."
    )

    @OptionGroup var options: ProfileOptions

    @Option(help: "The object's id (the first column of `stats`).")
    var id: Int

    func run() throws {
        let stats = try options.load()
        guard let row = stats.row(id: id) else { throw ValidationError("no object \(id) in \(options.files[0])") }
        try options.emit(row) { StatsReport.object(row, in: stats) }
    }
}
