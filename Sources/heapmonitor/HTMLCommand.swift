import ArgumentParser
import Foundation
import HeapMonitor

/// `heapmonitor html`: a profile as a self-contained HTML page with charts.
struct HTMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "html",
        abstract: "Write a profile as one self-contained HTML page with charts (no network needed to view it)."
    )

    @Argument(help: "A profile file.")
    var file: String

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output: String

    @Option(help: "Instances listed per class (the largest).")
    var instances = 100

    func run() throws {
        let profile: Profile
        do {
            profile = try Profile.load(from: file)
        } catch {
            throw Output.failure(error)
        }
        do {
            try HTMLReport(profile: profile, instanceLimit: instances).write(to: output)
        } catch {
            throw Output.failure(error)
        }
    }
}
