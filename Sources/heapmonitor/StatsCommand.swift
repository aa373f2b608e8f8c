import ArgumentParser
import HeapMonitor

/// `heapmonitor stats`: one line per tracked object, sorted, filtered, limited.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "List tracked objects: sizes, births and deaths.",
        discussion: """
            Sort keys: size (largest size seen), peak (size in the snapshot with the
            most tracked bytes), name, class, birth, death. Several --sort options
            sort by each in turn. Exit codes: 0 success, 1 a file cannot be read,
            64 a usage error.
            """
    )

    @OptionGroup var options: ProfileOptions

    @Option(name: .customLong("sort"), help: "Sort key (repeatable): size, peak, name, class, birth, death.")
    var sortKeys: [MemStats.SortKey] = [.size]

    @Flag(help: "Reverse the order.")
    var reverse = false

    @Option(help: "Show at most this many objects; a number below 1 is a fraction of them (0.1: the top tenth).")
    var limit: Double?

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        var stats = try options.load()
        stats.sort(by: sortKeys, reverse: reverse)
        if let limit { stats = limit < 1 ? stats.limited(toFraction: limit) : stats.limited(to: Int(limit)) }
        try options.emit(stats.rows) { StatsReport.objects(stats) }
    }
}
