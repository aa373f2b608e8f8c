import ArgumentParser
import HeapMonitor

/// `heapmonitor census PID`: live instances and bytes per class, now.
struct CensusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "census",
        abstract: "Live instances and bytes per class in a running process, the most bytes first.",
        discussion: """
            Counted by the allocation hooks since the control channel opened: no heap walk, \
            so it costs the process next to nothing (as jcmd GC.class_histogram, without the pause).
            """
    )

    @OptionGroup var process: ProcessOptions

    @Option(help: "Classes listed (0: all).")
    var limit = 30

    func run() throws {
        let census = try process.ask { (client) throws(ControlError) in try client.census(limit: limit) }
        try Output.emit(census, asJSON: process.json) { LiveReport.census(census) }
    }
}
