/// What `heapmonitor run` asks of the agent it preloads into a program,
/// passed in the `HEAPMONITOR_AGENT` environment variable: the switches
/// (with the binary profile always set), the class patterns tracked, and
/// whether the program's children are recorded too.
///
/// ```swift
/// var configuration = AgentConfiguration(profilePath: "/tmp/run.hmprof")
/// configuration.tracked = ["App.*"]
/// environment[AgentConfiguration.environmentVariable] = configuration.environmentValue
/// ```
public struct AgentConfiguration: Hashable, Sendable {
    /// The switches in force; `profilePath` is the binary profile written.
    public var switches: MonitorSwitches
    /// Class-name patterns tracked without traces (`App.*`).
    public var tracked: [String] = []
    /// Class-name patterns tracked with the allocating call stacks.
    public var traced: [String] = []
    /// Whether the program's child processes are recorded too, each to the
    /// profile path followed by `.PID`.
    public var recordsChildren = false
    /// Set in the children's copy: this process writes `profilePath.PID`.
    public var isChild = false

    /// The environment variable the agent reads.
    public static let environmentVariable = "HEAPMONITOR_AGENT"

    /// Recording to `profilePath`, with no other switch.
    public init(profilePath: String) {
        switches = MonitorSwitches()
        switches.profilePath = profilePath
    }

    /// The binary profile this process writes.
    public func profilePath(forProcess pid: Int32) -> String {
        let path = switches.profilePath ?? ""
        return isChild ? "\(path).\(pid)" : path
    }

    /// The variable's value: one argument per line.
    public var environmentValue: String {
        var lines = switches.arguments
        lines += tracked.map { "--track=" + $0 } + traced.map { "--trace=" + $0 }
        if recordsChildren { lines.append("--children") }
        if isChild { lines.append("--child") }
        return lines.joined(separator: "\n")
    }

    /// Reads a value written by `environmentValue`.
    ///
    /// - Throws: `MonitorSwitchError` for a line that is no setting, or
    ///   when the profile is missing.
    public init(environmentValue: String) throws(MonitorSwitchError) {
        switches = MonitorSwitches()
        var rest: [String] = []
        for line in environmentValue.split(separator: "\n").map(String.init) {
            if line.hasPrefix("--track=") {
                tracked.append(String(line.dropFirst("--track=".count)))
            } else if line.hasPrefix("--trace=") {
                traced.append(String(line.dropFirst("--trace=".count)))
            } else if line == "--children" {
                recordsChildren = true
            } else if line == "--child" {
                isChild = true
            } else {
                rest.append(line)
            }
        }
        guard try switches.take(from: rest).isEmpty else {
            throw MonitorSwitchError("\(Self.environmentVariable) holds a line that is no agent setting")
        }
        guard switches.profilePath != nil else {
            throw MonitorSwitchError("\(Self.environmentVariable) names no profile")
        }
    }
}
