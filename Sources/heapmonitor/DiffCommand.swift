import ArgumentParser
import HeapMonitor

/// `heapmonitor diff`: what changed between two snapshots.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Growth per class between two snapshots, and the objects that appeared and went.",
        discussion: "Snapshots are given by index (0 is the first; -1 the last) or by description."
    )

    @OptionGroup var options: ProfileOptions

    @Option(help: "The earlier snapshot (default: the one before --to).")
    var from: String?

    @Option(help: "The later snapshot (default: the last).")
    var to: String?

    @Option(help: "New and freed objects listed per kind.")
    var limit = 10

    func run() throws {
        let stats = try options.load()
        guard let snapshots = stats.profiles.first?.snapshots, snapshots.count >= 2 else {
            throw ValidationError("\(options.files[0]) has fewer than two snapshots")
        }
        let to = try index(of: self.to, in: snapshots, default: snapshots.count - 1)
        let from = try index(of: self.from, in: snapshots, default: to - 1)
        guard let diff = stats.diff(from: from, to: to) else { throw ValidationError("no snapshot \(from)") }
        try options.emit(diff) { StatsReport.diff(diff, in: stats, limit: limit) }
    }

    private func index(of text: String?, in snapshots: [Profile.Snapshot], default fallback: Int) throws -> Int {
        guard let text else { return fallback }
        if let number = Int(text) {
            let index = number < 0 ? snapshots.count + number : number
            guard snapshots.indices.contains(index) else {
                throw ValidationError("snapshot \(text) does not exist (there are \(snapshots.count))")
            }
            return index
        }
        guard let index = snapshots.firstIndex(where: { $0.description == text }) else {
            throw ValidationError("no snapshot is described \"\(text)\"")
        }
        return index
    }
}
