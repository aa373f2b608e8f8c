import Glibc
import HeapMonitorModel
import HeapMonitorRecording
import Synchronization

/// The agent `heapmonitor run` preloads into a program that does not link
/// HeapMonitor: it records what `HEAPMONITOR_AGENT` asks for into a profile
/// and ends the recording when the program exits. It prints no report —
/// `heapmonitor run` reads the profile once the program has gone.
enum Agent {
    /// The running recording, ended once at exit.
    private static let recording = Mutex<RunRecording?>(nil)

    /// Reads the configuration and starts recording; on any problem says
    /// so in one line on standard error and leaves the program alone.
    static func start() {
        guard let value = getenv(AgentConfiguration.environmentVariable).map({ String(cString: $0) }) else {
            return
        }
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration(environmentValue: value)
        } catch {
            return say("\(error)")
        }
        passOn(configuration)
        if dlsym(UnsafeMutableRawPointer(bitPattern: -1), "hm_hooks_install") != nil {
            // RTLD_NEXT: a second copy of the hooks, in the program itself.
            return say("the program links HeapMonitor already; use its switches (HEAPMONITOR=…), not run")
        }
        do {
            try track(configuration)
        } catch .nothingToPatch where configuration.recordsChildren || configuration.isChild {
            return  // a launcher in the recorded tree (a shell, say): not Swift
        } catch {
            return say("\(error)")
        }
        do {
            let started = try RunRecording(
                switches: configuration.switches, profilePath: configuration.profilePath(forProcess: getpid()))
            recording.withLock { $0 = started }
            atexit { Agent.finish() }
        } catch {
            say("\(error)")
        }
    }

    /// What the configuration tracks: its patterns, or with
    /// `--debug=heapmonitor` and no pattern every class outside the
    /// standard library; with neither, the hooks stay out.
    private static func track(_ configuration: AgentConfiguration) throws(HookError) {
        let tracker = Tracker.shared
        try tracker.installHooks()
        for pattern in configuration.tracked { try tracker.track(classesMatching: pattern, resolutionLevel: 1) }
        for pattern in configuration.traced {
            try tracker.track(classesMatching: pattern, resolutionLevel: 1, trace: true)
        }
        if configuration.switches.tracksObjects, configuration.tracked.isEmpty, configuration.traced.isEmpty {
            try tracker.trackEveryClass()
        } else if configuration.tracked.isEmpty, configuration.traced.isEmpty {
            // Installed only to learn that they can be: with nothing to
            // observe, the program's calls go straight to the runtime until
            // something (a census, a leak watch) installs them again.
            tracker.uninstallHooks()
        }
    }

    /// Children inherit the agent only when asked, each writing a profile
    /// of its own; otherwise the agent leaves their environment.
    private static func passOn(_ configuration: AgentConfiguration) {
        if configuration.recordsChildren {
            var child = configuration
            child.isChild = true
            setenv(AgentConfiguration.environmentVariable, child.environmentValue, 1)
            return
        }
        unsetenv(AgentConfiguration.environmentVariable)
        guard let preload = getenv("LD_PRELOAD").map({ String(cString: $0) }) else { return }
        let kept = preload.split(whereSeparator: { $0 == " " || $0 == ":" })
            .filter { !$0.hasSuffix("libHeapMonitorAgent.so") }
        if kept.isEmpty { unsetenv("LD_PRELOAD") } else { setenv("LD_PRELOAD", kept.joined(separator: ":"), 1) }
    }

    /// Ends the recording: the last snapshot, graph and scan go into the
    /// profile, which is closed.
    private static func finish() {
        guard let ended = recording.withLock({ $0.take() }) else { return }
        let end = ended.finish()
        for problem in end.analyses.map(\.description) + end.profiles.map(\.description) { say(problem) }
    }

    private static func say(_ message: String) {
        var line = "heapmonitor agent: \(message)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// The library constructor's entry point.
@_cdecl("hm_agent_start")
func hm_agent_start_swift() { Agent.start() }
