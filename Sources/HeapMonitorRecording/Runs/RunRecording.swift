import HeapMonitorModel

/// The recording a run's switches ask for, started and ended as one: the
/// leak watch, the profile, background memory and the control channel. The
/// host's classes are registered with the `Tracker` before it starts.
/// `HostMonitor` and the `heapmonitor run` agent both record through it;
/// what they print is read back from the profile.
///
/// ```swift
/// try Tracker.shared.track(classesMatching: "App.*")
/// let recording = try RunRecording(switches: switches, profilePath: "/tmp/run.hmprof")
/// // … the run …
/// let end = recording.finish()
/// ```
public struct RunRecording: Sendable {
    /// The switches in force.
    public let switches: MonitorSwitches
    /// The binary profile written, if any.
    public let profilePath: String?
    private let tracker = Tracker.shared

    /// Starts what `switches` ask for, streaming to `profilePath` (keeping
    /// only the last snapshot in memory, so a long run does not grow the
    /// host) and with `--debug=memory` recording process memory every
    /// `backgroundInterval`.
    public init(
        switches: MonitorSwitches, profilePath: String?, backgroundInterval: Duration = .milliseconds(20)
    ) throws {
        self.switches = switches
        self.profilePath = profilePath
        if switches.watchesObjects { try tracker.startWatchingForLeaks() }
        if let profilePath {
            try tracker.startProfile(at: profilePath)
            tracker.snapshotLimit = 1
        }
        if switches.takesSnapshots {
            tracker.startPeriodicSnapshots(every: backgroundInterval, description: "background")
        }
        if switches.servesControl { _ = try tracker.startControlChannel(snapshotSignal: switches.snapshotSignal) }
    }

    /// Ends the recording: the last snapshot when objects are tracked, the
    /// heap graph and the leak scan the switches ask for, all into the
    /// profile, which is then closed. Whatever fails, the rest is done.
    public func finish() -> End {
        var end = End()
        if switches.servesControl { tracker.stopControlChannel() }
        if switches.takesSnapshots { tracker.stopPeriodicSnapshots() }
        if switches.tracksObjects {
            do { try tracker.takeSnapshot(named: "end") } catch { end.analyses.append(error) }
        }
        if switches.capturesHeapGraphs {
            do { end.heapGraph = try tracker.captureHeapGraph() } catch { end.analyses.append(error) }
        }
        if switches.findsGarbage {
            do { end.leaks = try tracker.findLeaks() } catch { end.analyses.append(error) }
        }
        if switches.watchesObjects { tracker.stopWatchingForLeaks() }
        if profilePath != nil {
            do { try tracker.stopProfile() } catch { end.profiles.append(error) }
        }
        return end
    }

    /// What the end of a recording produced, and what failed on the way.
    public struct End: Sendable {
        /// The last heap graph, with `--debug=heapgraph`.
        public var heapGraph: HeapGraph?
        /// The last leak scan, with `--debug=garbage` or `--garbage=FILE`.
        public var leaks: LeakReport?
        /// Analyses that have no result: the last snapshot, the graph, the scan.
        public var analyses: [AnalysisError] = []
        /// The profile, when it could not be completed.
        public var profiles: [ProfileError] = []
    }
}
