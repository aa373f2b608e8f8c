#if canImport(Glibc)
import Glibc
#endif

/// The monitor's command-line switches, for any Swift program:
///
/// | switch | effect |
/// | --- | --- |
/// | `--debug=heapmonitor` | track the host's configured classes; print per-instance statistics at the end |
/// | `--debug=memory` | snapshots at the host's instants (memory only without `heapmonitor`) |
/// | `--heapprofile=FILE` | write the profile (an HTML report if FILE ends in `.html`) |
/// | `--debug=garbage` | print leaked reference cycles at the end |
/// | `--garbage=FILE` | write the leaked cycles as a graphviz DOT file |
/// | `--debug=heapgraph` | heap graphs at the instants and the end, into the profile; who holds memory, at the end |
/// | `--debug=control` | open the control socket: `heapmonitor census PID` and the other live commands |
/// | `--heapsignal=SIG` | the signal that takes a snapshot with `control` (`USR2` by default; `none`) |
///
/// `--debug` takes a comma-separated list and may repeat. The same switches
/// can come from the `HEAPMONITOR` environment variable
/// (`HEAPMONITOR="--debug=memory --heapprofile=heap.html"`).
public struct MonitorSwitches: Hashable, Sendable {
    /// `--debug=heapmonitor`.
    public var tracksObjects = false
    /// `--debug=memory`.
    public var takesSnapshots = false
    /// `--debug=garbage`.
    public var printsGarbage = false
    /// `--debug=heapgraph`.
    public var capturesHeapGraphs = false
    /// `--heapprofile=FILE`.
    public var profilePath: String?
    /// `--garbage=FILE`.
    public var garbageGraphPath: String?
    /// `--debug=control`.
    public var servesControl = false
    /// `--heapsignal=SIG`: the snapshot signal's number with `--debug=control`
    /// (SIGUSR2 unless set; nil for `none`).
    public var snapshotSignal: Int32? = SIGUSR2

    /// No switch set.
    public init() {}

    /// Whether any switch is set.
    public var isEmpty: Bool { self == MonitorSwitches() }

    /// Whether objects are watched for leaks.
    public var findsGarbage: Bool { printsGarbage || garbageGraphPath != nil }

    /// Whether every class's instances are watched (for leaks or graphs).
    public var watchesObjects: Bool { findsGarbage || capturesHeapGraphs }

    /// Where a profile asked for with `--heapprofile` is streamed: its
    /// file, or for an HTML report the page's path plus `.hmprof`, readable
    /// (up to its last snapshot) while the program runs and kept if it dies
    /// before the page is written.
    public var binaryProfilePath: String? {
        profilePath.map { $0.hasSuffix(".html") ? $0 + ".hmprof" : $0 }
    }

    /// The switches as arguments that `take(from:)` reads back.
    ///
    /// ```swift
    /// var copy = MonitorSwitches()
    /// _ = try copy.take(from: switches.arguments)   // copy == switches
    /// ```
    public var arguments: [String] {
        let words = [
            (tracksObjects, "heapmonitor"), (takesSnapshots, "memory"), (printsGarbage, "garbage"),
            (capturesHeapGraphs, "heapgraph"), (servesControl, "control"),
        ].filter(\.0).map(\.1)
        var arguments = words.isEmpty ? [] : ["--debug=" + words.joined(separator: ",")]
        if let profilePath { arguments.append("--heapprofile=" + profilePath) }
        if let garbageGraphPath { arguments.append("--garbage=" + garbageGraphPath) }
        if snapshotSignal != SIGUSR2 { arguments.append("--heapsignal=\(snapshotSignal ?? 0)") }
        return arguments
    }

    /// The environment variable read by `init(environment:)` and `parse(_:environment:)`.
    public static let environmentVariable = "HEAPMONITOR"

    /// Takes the monitor's switches out of `arguments` and returns the rest,
    /// in order, for the program's own parsing. Arguments after `--` are left alone.
    public mutating func take(from arguments: [String]) throws(MonitorSwitchError) -> [String] {
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            if let (name, inlineValue) = Self.split(argument), Self.names.contains(name) {
                var value = inlineValue
                if value == nil {
                    guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                        throw MonitorSwitchError("\(name) needs a value (\(Self.usage[name]!))")
                    }
                    index += 1
                    value = arguments[index]
                }
                try apply(name, value!)
            } else {
                rest.append(argument)
            }
            index += 1
        }
        return rest
    }

    /// The switches in `arguments` (program name first, as in
    /// `CommandLine.arguments`) and in the environment variable, and the
    /// arguments left for the program.
    ///
    /// ```swift
    /// let (switches, arguments) = try MonitorSwitches.parse()
    /// ```
    public static func parse(
        _ arguments: [String] = CommandLine.arguments,
        environment: [String: String]? = nil
    )
        throws(MonitorSwitchError) -> (switches: MonitorSwitches, arguments: [String])
    {
        var switches = try MonitorSwitches(environment: environment)
        guard let program = arguments.first else { return (switches, []) }
        let rest = try switches.take(from: Array(arguments.dropFirst()))
        return (switches, [program] + rest)
    }

    /// The switches in the `HEAPMONITOR` environment variable (split at
    /// spaces) of `environment`, or of the process when it is nil.
    ///
    /// ```swift
    /// let monitor = try HostMonitor(switches: MonitorSwitches(environment: nil), classes: [])
    /// ```
    public init(environment: [String: String]?) throws(MonitorSwitchError) {
        self.init()
        let variable = Self.environmentVariable
        let value = environment.map { $0[variable] } ?? Self.getenv(variable)
        guard let value, !value.isEmpty else { return }
        let unknown = try take(from: value.split(separator: " ").map(String.init))
        guard unknown.isEmpty else {
            let words = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw MonitorSwitchError("\(variable) holds \(words), which is not a HeapMonitor switch")
        }
    }

    /// Applies one switch (`name` without its value, as `--debug`).
    public mutating func apply(_ name: String, _ value: String) throws(MonitorSwitchError) {
        switch name {
        case "--debug":
            for word in value.split(separator: ",", omittingEmptySubsequences: false) {
                switch word {
                case "heapmonitor": tracksObjects = true
                case "memory": takesSnapshots = true
                case "garbage": printsGarbage = true
                case "control": servesControl = true
                case "heapgraph": capturesHeapGraphs = true
                default:
                    throw MonitorSwitchError(
                        "--debug=\(value): '\(word)' is not one of heapmonitor, memory, garbage, heapgraph, control")
                }
            }
        case "--heapprofile":
            guard !value.isEmpty else { throw MonitorSwitchError("--heapprofile needs a file name") }
            profilePath = value
        case "--garbage":
            guard !value.isEmpty else { throw MonitorSwitchError("--garbage needs a file name") }
            garbageGraphPath = value
        case "--heapsignal":
            guard let signal = Self.signals[value.uppercased().replacing("SIG", with: "")] ?? Int32(value),
                signal >= 0, signal < 65
            else {
                throw MonitorSwitchError(
                    "--heapsignal=\(value): not a signal (USR1, USR2, HUP, URG, WINCH, PWR, a number, or none)")
            }
            snapshotSignal = signal == 0 ? nil : signal
        default:
            throw MonitorSwitchError("\(name) is not a HeapMonitor switch")
        }
    }

    static let names: Set<String> = ["--debug", "--heapprofile", "--garbage", "--heapsignal"]
    static let usage = [
        "--debug": "--debug=heapmonitor,memory,garbage,heapgraph,control", "--heapprofile": "--heapprofile=FILE",
        "--garbage": "--garbage=FILE", "--heapsignal": "--heapsignal=USR2",
    ]
    /// Signals a program is likely to leave free, by name; `none` is 0.
    private static let signals: [String: Int32] = [
        "NONE": 0, "USR1": SIGUSR1, "USR2": SIGUSR2, "HUP": SIGHUP, "URG": SIGURG, "WINCH": SIGWINCH,
        "PWR": SIGPWR,
    ]

    private static func split(_ argument: String) -> (String, String?)? {
        guard argument.hasPrefix("--") else { return nil }
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    private static func getenv(_ name: String) -> String? {
        #if canImport(Glibc)
        return Glibc.getenv(name).map { String(cString: $0) }
        #else
        return nil
        #endif
    }
}

/// A malformed HeapMonitor switch, with what was expected.
public struct MonitorSwitchError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var description: String

    init(_ description: String) { self.description = description }
}
