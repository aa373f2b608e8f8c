import ArgumentParser
import HeapMonitor

/// The HeapMonitor switches as a swift-argument-parser option group:
///
/// ```swift
/// struct Build: ParsableCommand {
///     @OptionGroup var monitor: MonitorOptions
///     func run() throws {
///         let host = try HostMonitor(switches: monitor.switches(), classes: [Node.self])
///         defer { try? host.finish() }
///         …
///     }
/// }
/// ```
///
/// The `HEAPMONITOR` environment variable adds to what is given here.
public struct MonitorOptions: ParsableArguments {
    @Option(
        name: .customLong("debug"),
        help: ArgumentHelp(
            "HeapMonitor: heapmonitor (track and report objects), memory (snapshots), "
                + "garbage (leaked cycles); comma-separated, repeatable.",
            valueName: "what"))
    public var debug: [String] = []

    @Option(
        name: .customLong("heapprofile"),
        help: ArgumentHelp(
            "HeapMonitor: write the profile here (an HTML report if it ends in .html).",
            valueName: "file"))
    public var heapProfile: String?

    @Option(
        name: .customLong("garbage"),
        help: ArgumentHelp(
            "HeapMonitor: write leaked reference cycles here as graphviz DOT.",
            valueName: "file"))
    public var garbageGraph: String?

    public init() {}

    public func validate() throws {
        _ = try switches()
    }

    /// The switches given, with those of the environment variable.
    public func switches() throws -> MonitorSwitches {
        do {
            var switches = try MonitorSwitches(environment: nil)
            for value in debug { try switches.apply("--debug", value) }
            if let heapProfile { try switches.apply("--heapprofile", heapProfile) }
            if let garbageGraph { try switches.apply("--garbage", garbageGraph) }
            return switches
        } catch {
            throw ValidationError(error.description)
        }
    }
}
