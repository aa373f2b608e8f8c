import ArgumentParser
import HeapMonitor

/// `heapmonitor ps`: the monitored processes of this user.
struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "The processes of this user that serve the monitor's control socket (--debug=control).",
        discussion: "Stale sockets of processes that are gone are removed on the way."
    )

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let statuses = ControlClient.monitoredProcesses().compactMap { try? ControlClient(pid: $0).status() }
        try Output.emit(statuses, asJSON: json) {
            guard !statuses.isEmpty else { return "no monitored processes (in \(ControlSocket.directory()))" }
            var table = TextTable(headers: ["pid", "RSS", "tracked", "profile", "program"], numeric: [0, 1, 2])
            for status in statuses {
                table.rows.append([
                    "\(status.pid)", ByteCount.format(status.memory.residentBytes), "\(status.liveTrackedObjects)",
                    status.profilePath ?? "-", status.program,
                ])
            }
            return table.render()
        }
    }
}
