import ArgumentParser
import Foundation
import HeapMonitor

/// `heapmonitor run -- PROGRAM ARGS…`: records a Swift program that does not
/// link HeapMonitor, by preloading the agent, and reports when it exits.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Swift program that does not link HeapMonitor, recording its heap; report when it exits.",
        discussion: """
            The program must load libswiftCore.so (the default for swift build). Without \
            --debug, --track or --trace, every class outside the standard library is \
            tracked, process memory is recorded and leaked cycles are reported: \
            --debug=heapmonitor,memory,garbage. While it runs, the live commands (status, \
            census, top, snapshot, leaks, retainers…) ask it by its pid. Its exit status \
            is passed through.

              heapmonitor run -- .build/debug/MyServer --port 8080
              heapmonitor run --track 'MyServer.*' --heapprofile=heap.html -- ./MyServer
            """
    )

    @Option(name: .customLong("debug"), help: "heapmonitor, memory, garbage, heapgraph (comma-separated).")
    var debug: [String] = []

    @Option(name: .customLong("heapprofile"), help: "Keep the profile here (an HTML report if it ends in .html).")
    var heapProfile: String?

    @Option(name: .customLong("garbage"), help: "Write the leaked cycles as a graphviz DOT file.")
    var garbage: String?

    @Option(name: .customLong("heapsignal"), help: "The signal that takes a snapshot (USR2 by default; none).")
    var heapSignal: String?

    @Option(help: "Track the classes whose qualified name matches (App.*); repeatable.")
    var track: [String] = []

    @Option(help: "Track the matching classes with the call stacks that allocate them; repeatable.")
    var trace: [String] = []

    @Flag(help: "Do not open the control socket.")
    var noControl = false

    @Flag(help: "Record the program's child processes too, each into a profile of its own.")
    var children = false

    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments (after --).")
    var command: [String] = []

    private var program: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        guard !program.isEmpty else { throw ValidationError("name the program to run: heapmonitor run -- PROGRAM") }
        guard !(track + trace + [heapProfile, garbage].compactMap { $0 }).contains(where: { $0.contains("\n") })
        else { throw ValidationError("patterns and file names cannot hold a line break") }
    }

    func run() throws {
        let configuration: AgentConfiguration
        let temporary: Bool
        do {
            (configuration, temporary) = try agentConfiguration()
            try check(program[0])
        } catch {
            throw Output.failure(error)
        }
        let profilePath = configuration.switches.profilePath!
        var environment = ProcessInfo.processInfo.environment
        let agent: String
        do { agent = try Self.agentLibrary() } catch { throw Output.failure(error) }
        environment["LD_PRELOAD"] = ([agent] + [environment["LD_PRELOAD"]].compactMap { $0 }).joined(separator: ":")
        environment[AgentConfiguration.environmentVariable] = configuration.environmentValue
        let child: ChildProcess
        do { child = try ChildProcess(arguments: program, environment: environment) } catch {
            throw Output.failure(error)
        }
        Output.note("heapmonitor: recording \(program[0]) as pid \(child.pid) (heapmonitor status \(child.pid))\n")
        let status = child.waitForExit()
        let reported = report(configuration, profilePath: profilePath)
        if temporary { unlink(profilePath) }
        if status != 0 { throw ExitCode(status) }
        if !reported { throw ExitCode(1) }
    }

    /// The switches asked for, with the default when none is, and the
    /// profile (a temporary file unless --heapprofile names one).
    private func agentConfiguration() throws -> (AgentConfiguration, temporary: Bool) {
        var switches = MonitorSwitches()
        for value in debug { try switches.apply("--debug", value) }
        if let heapProfile { try switches.apply("--heapprofile", heapProfile) }
        if let garbage { try switches.apply("--garbage", garbage) }
        if let heapSignal { try switches.apply("--heapsignal", heapSignal) }
        if debug.isEmpty && track.isEmpty && trace.isEmpty {
            try switches.apply("--debug", "heapmonitor,memory,garbage")
        }
        if !track.isEmpty || !trace.isEmpty { switches.tracksObjects = true }
        switches.servesControl = !noControl
        let binary = switches.binaryProfilePath
        let path = binary ?? ControlSocket.temporaryDirectory + "/heapmonitor-run-\(getpid()).hmprof"
        var configuration = AgentConfiguration(profilePath: path)
        configuration.switches = switches
        configuration.switches.profilePath = path
        configuration.tracked = track
        configuration.traced = trace
        configuration.recordsChildren = children
        return (configuration, binary == nil)
    }

    /// Refuses a program the agent cannot record, saying what works instead.
    private func check(_ name: String) throws(RunError) {
        guard let path = Self.lookUp(name) else { throw RunError("\(name): no such program") }
        guard let kind = ProgramKind(path: path) else { throw RunError("\(name): cannot be read") }
        // A script or other launcher may start Swift programs, recorded
        // as its children; the launcher itself records nothing.
        if children && (kind == .notELF || kind == .noSwiftRuntime) { return }
        if let refusal = kind.refusal(for: name) { throw RunError(refusal) }
        if kind == .dynamicSwift(stripped: true) {
            Output.note("heapmonitor: \(name) is stripped: traces show addresses, not functions\n")
        }
    }

    /// `name` itself when it has a slash, else the first match in `PATH`.
    private static func lookUp(_ name: String) -> String? {
        if name.contains("/") { return name }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// The agent library: `HEAPMONITOR_AGENT_LIBRARY`, or the one built next
    /// to this executable.
    static func agentLibrary() throws(RunError) -> String {
        if let path = ProcessInfo.processInfo.environment["HEAPMONITOR_AGENT_LIBRARY"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let path = executable.deletingLastPathComponent().appendingPathComponent("libHeapMonitorAgent.so").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw RunError("the agent is not built next to heapmonitor: swift build --product HeapMonitorAgent")
        }
        return path
    }

    /// Prints what the switches ask for from the profile; false when there
    /// was none to read (the agent said why) or a report failed.
    private func report(_ configuration: AgentConfiguration, profilePath: String) -> Bool {
        let switches = configuration.switches
        let profile: Profile
        do { profile = try Profile.load(from: profilePath) } catch {
            if children {
                listChildProfiles(of: profilePath)
                return true
            }
            Output.note("heapmonitor: nothing was recorded: \(error)\n")
            return false
        }
        let report = RunReport(profile: profile)
        if switches.tracksObjects { print(report.trackedObjects) }
        if switches.takesSnapshots { print(report.processMemory) }
        if switches.capturesHeapGraphs, let holders = report.holders { print(holders) }
        var succeeded = true
        if let leaks = report.leaks {
            if switches.printsGarbage { print(leaks.description) }
            if let path = switches.garbageGraphPath {
                do { try leaks.writeDOT(to: path) } catch { Output.note("heapmonitor: \(error)\n"); succeeded = false }
            }
        }
        if let page = heapProfile, page.hasSuffix(".html") {
            do {
                try HTMLReport(profile: profile).write(to: page)
                unlink(profilePath)
            } catch {
                Output.note("heapmonitor: \(error)\n")
                succeeded = false
            }
        }
        if children { listChildProfiles(of: profilePath) }
        return succeeded
    }

    /// The children's profiles, kept for `heapmonitor stats` and the rest.
    private func listChildProfiles(of profilePath: String) {
        let url = URL(fileURLWithPath: profilePath)
        let prefix = url.lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)) ?? []
        let directory = url.deletingLastPathComponent().path
        for name in names.sorted() where name.hasPrefix(prefix) {
            guard let pid = Int(name.dropFirst(prefix.count)) else { continue }
            Output.note("heapmonitor: child \(pid) recorded in \(directory)/\(name)\n")
        }
    }
}
