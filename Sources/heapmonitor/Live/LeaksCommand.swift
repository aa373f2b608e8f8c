import ArgumentParser
import HeapMonitor

/// `heapmonitor leaks PID|FILE`: leaked reference cycles, grouped by shape.
struct LeaksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaks",
        abstract: "Reference cycles nothing else holds, grouped by shape: of a running process, or in a profile.",
        discussion: """
            Given a process id, scanned now in a forked child of the process: objects are watched for leaks \
            with --debug=garbage; otherwise only tracked objects are scanned. Given a profile, its last leak \
            scan (--debug=garbage with --heapprofile, or Tracker.findLeaks() while profiling). Cycles of one \
            shape (the same types along the same fields) are one row with their count and bytes.
            """
    )

    @Argument(help: "A monitored process's id (heapmonitor ps lists them), or a profile file.")
    var source: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Also write the cycles as a graphviz DOT file, one cluster per shape.")
    var dot: String?

    func run() throws {
        let report = try Self.report(from: source)
        if let dot {
            do { try report.writeDOT(to: dot) } catch { throw Output.failure(error) }
        }
        try Output.emit(report, asJSON: json) { report.description }
    }

    private static func report(from source: String) throws -> LeakReport {
        do {
            if let pid = Int32(source) { return try ControlClient(pid: pid).leaks() }
            let profile = try Profile.load(from: source)
            guard let scan = profile.leakScans.last else {
                throw GraphSourceError("\(source) holds no leak scan: record one with --debug=garbage")
            }
            return scan.report
        } catch {
            throw Output.failure(error)
        }
    }
}
