import ArgumentParser
import HeapMonitor

/// `heapmonitor track PID --class NAME`: start tracking a class in a running
/// process.
struct TrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Start tracking a class, by name, in a running process.",
        discussion: "Instances allocated from now on are tracked; snapshots size them."
    )

    @OptionGroup var process: ProcessOptions

    @Option(name: .customLong("class"), help: "The class: Module.Type, or nested, Module.Outer.Type.")
    var className: String

    @Option(help: "How deep snapshots size each instance's referents.")
    var level = 0

    @Flag(help: "Record the call stack that allocates each instance.")
    var trace = false

    func run() throws {
        let done = try process.ask { (client) throws(ControlError) in
            try client.track(className: className, resolutionLevel: level, trace: trace)
        }
        print(done)
    }
}

/// `heapmonitor untrack PID --class NAME`: stop tracking new instances.
struct UntrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "untrack",
        abstract: "Stop tracking new instances of a class in a running process."
    )

    @OptionGroup var process: ProcessOptions

    @Option(name: .customLong("class"), help: "The class, as given to track.")
    var className: String

    func run() throws {
        print(try process.ask { (client) throws(ControlError) in try client.untrack(className: className) })
    }
}
