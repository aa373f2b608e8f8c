import ArgumentParser
import Foundation
import HeapMonitor

/// `heapmonitor snapshot PID [DESCRIPTION]`: a sized snapshot of a running
/// process, now.
struct LiveSnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "A sized snapshot of a running process now, into its profile or a file of its own.",
        discussion: """
            The objects are sized in a forked child of the process, so it goes on serving. With -o, \
            the snapshot goes into a new profile (an HTML report when FILE ends in .html).
            """
    )

    @OptionGroup var process: ProcessOptions

    @Argument(help: "The snapshot's description.")
    var description = "snapshot"

    @Option(name: .shortAndLong, help: "Write a profile holding this snapshot to FILE (.hmprof or .html).")
    var output: String?

    func run() throws {
        let target = output.map(Self.absolute)
        let profilePath = target.map { $0.hasSuffix(".html") ? $0 + ".hmprof" : $0 }
        let summary = try process.ask { (client) throws(ControlError) in
            try client.snapshot(named: description, intoNewProfileAt: profilePath)
        }
        if let target, let profilePath, target != profilePath {
            do {
                try HTMLReport(profile: try Profile.load(from: profilePath)).write(to: target)
                unlink(profilePath)
            } catch {
                throw Output.failure(error)
            }
        }
        var shown = summary
        shown.profilePath = target ?? summary.profilePath
        try Output.emit(shown, asJSON: process.json) { LiveReport.snapshot(shown) }
    }

    /// The process has its own working directory: it is given absolute paths.
    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
