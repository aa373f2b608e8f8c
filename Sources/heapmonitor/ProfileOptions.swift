import ArgumentParser
import Foundation
import HeapMonitor

/// Options every command over profile files shares.
struct ProfileOptions: ParsableArguments {
    @Argument(help: "Profile files written with --heapprofile or Tracker.startProfile(at:).")
    var files: [String]

    @Option(help: "Keep objects whose class name contains this text (ignoring case).")
    var filter: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one profile file") }
    }

    /// The files loaded and filtered. A file that cannot be read ends the
    /// command with its one-line error and exit code 1.
    func load() throws -> MemStats {
        let stats: MemStats
        do {
            stats = try MemStats(loading: files)
        } catch {
            throw Output.failure(error)
        }
        for profile in stats.profiles where !profile.isComplete {
            let tail = profile.unreadBytes > 0 ? "; its last \(profile.unreadBytes) bytes hold no complete record" : ""
            let note = "heapmonitor: note: \(profile.path) was not closed (the program ended early?)\(tail); "
                + "read up to its last complete record\n"
            Output.note(note)
        }
        return filter.map { stats.filtered(className: $0) } ?? stats
    }

    /// Prints `value` as JSON, or `text()`.
    func emit<T: Encodable>(_ value: T, text: () -> String) throws {
        try Output.emit(value, asJSON: json, text: text)
    }
}

extension MemStats.SortKey: ExpressibleByArgument {}
