import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a host program needs to honour the switches: one object, set up
/// once, told about the program's instants, finished at the end. It is
/// `Sendable`: a server hands it to its route closures and tasks, and
/// `finish()` runs once however many call it.
///
/// ```swift
/// let monitor = try HostMonitor(switches: switches, classes: [Node.self, Action.self])
/// monitor.instant("after reading the project")
/// …
/// monitor.finish()   // statistics, the profile, the garbage report
/// ```
public final class HostMonitor: Sendable {
    /// The switches in force.
    public let switches: MonitorSwitches
    private let tracker = Tracker.shared
    private let standardOutput: @Sendable (String) -> Void
    /// Streams to the profile: the switch's file, a temporary one for the
    /// end-of-run reports, or for an HTML report its path plus `.hmprof`.
    private let recording: RunRecording
    private let temporaryProfile: Bool
    /// Where the HTML report goes at the end, when the switch asked for one.
    private let htmlPath: String?
    private let finished = Atomic(false)

    /// Starts what the switches ask for. `classes` are the host's
    /// pre-configured classes, tracked with `--debug=heapmonitor` at
    /// `resolutionLevel`. With `--debug=memory`, process memory is also
    /// recorded every `backgroundInterval` between the instants. Snapshots
    /// stream to the profile (a temporary one without `--heapprofile`), which
    /// `finish()` reads back for its reports; the tracker keeps only the last
    /// snapshot in memory, so a long run does not grow the host. With
    /// `--debug=control` the control socket opens
    /// (`Tracker.startControlChannel(snapshotSignal:)`) until `finish()`.
    /// `output` receives the printed reports (standard output by default).
    public init(
        switches: MonitorSwitches, classes: [AnyClass], resolutionLevel: Int = 1, trace: Bool = true,
        backgroundInterval: Duration = .milliseconds(20),
        output: @escaping @Sendable (String) -> Void = { print($0) }
    ) throws {
        self.switches = switches
        self.backgroundInterval = backgroundInterval
        standardOutput = output
        if switches.tracksObjects {
            for type in classes { try tracker.track(class: type, resolutionLevel: resolutionLevel, trace: trace) }
        }
        htmlPath = switches.profilePath.flatMap { $0.hasSuffix(".html") ? $0 : nil }
        var profilePath = switches.binaryProfilePath
        if profilePath != nil {
            temporaryProfile = false
        } else if switches.tracksObjects || switches.takesSnapshots {
            profilePath = ControlSocket.temporaryDirectory + "/heapmonitor-\(getpid()).hmprof"
            temporaryProfile = true
        } else {
            profilePath = nil
            temporaryProfile = false
        }
        recording = try RunRecording(
            switches: switches, profilePath: profilePath, backgroundInterval: backgroundInterval)
    }

    /// How often background snapshots record process memory with `--debug=memory`.
    public let backgroundInterval: Duration

    /// One of the host's instants: a snapshot with `--debug=memory` (sizing
    /// tracked objects with `--debug=heapmonitor`, process memory only
    /// otherwise), returned; nil without `--debug=memory`. Between instants,
    /// `--debug=memory` also records process memory in the background every
    /// `backgroundInterval`.
    ///
    /// Objects are sized where the tracker's `isolation` says — in a forked
    /// child by default, so an instant may come while other threads work.
    ///
    /// - Throws: `AnalysisError` when sizing failed; the host goes on.
    ///
    /// With `--debug=heapgraph`, a heap graph is taken too (into the profile).
    @discardableResult
    public func instant(_ description: String) throws(AnalysisError) -> Snapshot? {
        if switches.capturesHeapGraphs { _ = try tracker.captureHeapGraph() }
        guard switches.takesSnapshots else { return nil }
        return try tracker.takeSnapshot(named: description, sizingObjects: switches.tracksObjects)
    }

    /// Ends the run: a last snapshot when objects are tracked, per-instance
    /// and per-class statistics, the memory at the instants, the profile (or
    /// HTML report), the garbage report and graph. Whatever fails, the rest
    /// is still done: the statistics are printed and the profile is closed.
    ///
    /// - Throws: `FinishError`, listing what failed on the way.
    public func finish() throws(FinishError) {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let end = recording.finish()
        var failure = FinishError(analyses: end.analyses, profiles: end.profiles)
        if let graph = end.heapGraph { standardOutput(HeapGraphAnalysis(graph).whoHoldsTheMemory()) }
        if let report = end.leaks {
            if switches.printsGarbage { standardOutput(report.description) }
            if let path = switches.garbageGraphPath {
                do { try report.writeDOT(to: path) } catch { failure.reports.append(error) }
            }
        }
        if let profilePath = recording.profilePath {
            // The statistics and the page read the profile once, as written:
            // every snapshot is in it.
            if switches.tracksObjects || switches.takesSnapshots || htmlPath != nil {
                readBack(profilePath, failure: &failure)
            }
            if temporaryProfile { unlink(profilePath) }
        }
        for problem in failure.problems { standardOutput("heapmonitor: \(problem)") }
        if !failure.problems.isEmpty { throw failure }
    }

    /// The statistics the switches ask for and the HTML page, from the
    /// profile at `path`; the profile goes once the page is written.
    private func readBack(_ path: String, failure: inout FinishError) {
        let profile: Profile
        do {
            profile = try Profile.load(from: path)
        } catch {
            failure.profiles.append(error)
            if switches.tracksObjects { standardOutput(Self.statistics(fromTracker: tracker)) }
            return
        }
        let report = RunReport(profile: profile)
        if switches.tracksObjects { standardOutput(report.trackedObjects) }
        if switches.takesSnapshots { standardOutput(report.processMemory) }
        guard let htmlPath else { return }
        do {
            try HTMLReport(profile: profile).write(to: htmlPath)
            unlink(path)
        } catch {
            failure.reports.append(error)
        }
    }

    /// What went wrong in `finish()`; everything else was done.
    public struct FinishError: Error, Hashable, Sendable, CustomStringConvertible {
        /// Analyses that have no result: the last snapshot, the leak scan.
        public var analyses: [AnalysisError] = []
        /// The profile, when it could not be written or read back.
        public var profiles: [ProfileError] = []
        /// Reports that could not be written: the HTML page, the leak graph.
        public var reports: [ReportError] = []

        /// Every problem as a sentence, analyses first.
        public var problems: [String] {
            analyses.map(\.description) + profiles.map(\.description) + reports.map(\.description)
        }

        public var description: String { problems.joined(separator: "; ") }
    }

    private static func statistics(fromTracker tracker: Tracker) -> String {
        let objects = tracker.objects
        let last = tracker.snapshots.last
        var table = TextTable(headers: ["id", "class", "name", "born s", "died s", "size"], numeric: [0, 3, 4, 5])
        let rows = objects.map { ($0, last?.size(of: $0.id)?.size ?? 0) }
            .sortedLargestFirst(by: \.1, thenBy: \.0.id).prefix(20)
        for (object, size) in rows {
            table.rows.append([
                "\(object.id)", shortClassName(object.className), object.name ?? "",
                StatsReport.seconds(object.birth), object.death.map(StatsReport.seconds) ?? "alive",
                ByteCount.format(size),
            ])
        }
        return "HeapMonitor: tracked objects, the 20 largest of \(objects.count)\n" + table.render()
    }
}
