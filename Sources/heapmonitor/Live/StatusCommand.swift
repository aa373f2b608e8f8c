import ArgumentParser
import HeapMonitor

/// `heapmonitor status PID`: what the monitor does in a running process.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What is tracked in a running process, its profile, the monitor's own bytes and dropped events."
    )

    @OptionGroup var process: ProcessOptions

    func run() throws {
        let status = try process.ask { (client) throws(ControlError) in try client.status() }
        try Output.emit(status, asJSON: process.json) { LiveReport.status(status) }
    }
}
