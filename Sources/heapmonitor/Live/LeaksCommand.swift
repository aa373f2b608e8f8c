import ArgumentParser
import HeapMonitor

/// `heapmonitor leaks PID`: leaked reference cycles in a running process.
struct LeaksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaks",
        abstract: "Reference cycles nothing else holds, among a running process's tracked and watched objects.",
        discussion: """
            Scanned in a forked child of the process. Objects are watched for leaks with \
            --debug=garbage; otherwise only tracked objects are scanned.
            """
    )

    @OptionGroup var process: ProcessOptions

    @Option(help: "Also write the cycles as a graphviz DOT file.")
    var dot: String?

    func run() throws {
        let report = try process.ask { (client) throws(ControlError) in try client.leaks() }
        if let dot {
            do { try report.writeDOT(to: dot) } catch { throw Output.failure(error) }
        }
        try Output.emit(report, asJSON: process.json) { report.description }
    }
}
