import ArgumentParser
import HeapMonitor

/// `heapmonitor diff`: what changed between two snapshots.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Growth per class between two snapshots, and the objects that appeared and went.",
        discussion: """
            Snapshots are given by index (0 is the first; -1 the last), by description, or as \
            last or peak; by default the last two that sized objects. Given two files — two runs of a program, \
            before and after a change — it compares a snapshot of the first (--from, default its \
            last sized one) with one of the second (--to, likewise), class by class.
            """
    )

    @OptionGroup var options: ProfileOptions

    @Option(help: ArgumentHelp("The earlier snapshot (default: the sized one before --to; "
                               + "with two files, the first file's last sized one)."))
    var from: String?

    @Option(help: "The later snapshot (default: the last sized one).")
    var to: String?

    @Option(help: "New and freed objects listed per kind.")
    var limit = 10

    func validate() throws {
        guard options.files.count <= 2 else { throw ValidationError("give one profile file, or two runs to compare") }
    }

    func run() throws {
        let stats = try options.load()
        guard let first = stats.profiles.first, let last = stats.profiles.last else { return }
        let to = try index(of: self.to, in: last.snapshots, default: SnapshotChoice.lastSized(in: last.snapshots))
        let from = try index(
            of: self.from, in: first.snapshots,
            default: SnapshotChoice.lastSized(in: first.snapshots, before: first.id == last.id ? to ?? 0 : nil))
        guard let from, let to else {
            throw ValidationError("there are not two snapshots that sized objects to compare")
        }
        guard let diff = stats.diff(from: from, in: first.id, to: to, in: last.id) else {
            throw ValidationError("no snapshot \(from)")
        }
        try options.emit(diff) { StatsReport.diff(diff, in: stats, limit: limit) }
    }

    private func index(of text: String?, in snapshots: [Snapshot], default fallback: Int?) throws -> Int? {
        try text.map { try SnapshotChoice.index($0, in: snapshots) } ?? fallback
    }
}
