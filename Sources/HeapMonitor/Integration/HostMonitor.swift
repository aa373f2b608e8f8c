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
    /// Where the profile is streamed: the switch's file, a temporary one for
    /// the end-of-run reports, or for an HTML report its path plus `.hmprof`.
    private let profilePath: String?
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
        if switches.watchesObjects { try tracker.startWatchingForLeaks() }
        htmlPath = switches.profilePath.flatMap { $0.hasSuffix(".html") ? $0 : nil }
        if let path = switches.profilePath {
            profilePath = Self.binaryProfilePath(for: path)
            temporaryProfile = false
        } else if switches.tracksObjects || switches.takesSnapshots {
            let directory = ControlSocket.temporaryDirectory
            profilePath = directory + "/heapmonitor-\(getpid()).hmprof"
            temporaryProfile = true
        } else {
            profilePath = nil
            temporaryProfile = false
        }
        if let profilePath {
            try tracker.startProfile(at: profilePath)
            tracker.snapshotLimit = 1
        }
        if switches.takesSnapshots {
            tracker.startPeriodicSnapshots(every: backgroundInterval, description: "background")
        }
        if switches.servesControl { try tracker.startControlChannel(snapshotSignal: switches.snapshotSignal) }
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
        var failure = FinishError()
        if switches.servesControl { tracker.stopControlChannel() }
        if switches.takesSnapshots { tracker.stopPeriodicSnapshots() }
        if switches.tracksObjects {
            do { try tracker.takeSnapshot(named: "end") } catch { failure.analyses.append(error) }
        }
        if switches.capturesHeapGraphs {
            do {
                let graph = try tracker.captureHeapGraph()
                standardOutput(HeapGraphAnalysis(graph).whoHoldsTheMemory())
            } catch {
                failure.analyses.append(error)
            }
        }
        if switches.findsGarbage {
            do {
                let report = try tracker.findLeaks()
                if switches.printsGarbage { standardOutput(report.description) }
                if let path = switches.garbageGraphPath {
                    do { try report.writeDOT(to: path) } catch { failure.reports.append(error) }
                }
            } catch {
                failure.analyses.append(error)
            }
        }
        if switches.watchesObjects { tracker.stopWatchingForLeaks() }
        if let profilePath {
            do { try tracker.stopProfile() } catch { failure.profiles.append(error) }
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

    /// Where a profile asked for at `path` is streamed: `path` itself, or for
    /// an HTML report `path.hmprof`, readable (up to its last snapshot) while
    /// the program still runs and kept if it dies before `finish()`.
    static func binaryProfilePath(for path: String) -> String {
        path.hasSuffix(".html") ? path + ".hmprof" : path
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
        if switches.tracksObjects { standardOutput(Self.statistics(MemStats(profiles: [profile]))) }
        if switches.takesSnapshots {
            standardOutput("HeapMonitor: process memory\n" + StatsReport.memory(profile, background: false))
        }
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

    private static func statistics(_ stats: MemStats) -> String {
        var sorted = stats
        sorted.sort(by: [.size])
        return "HeapMonitor: tracked objects, the 20 largest of \(stats.count)\n"
            + StatsReport.objects(sorted.limited(to: 20))
            + "\n\n" + StatsReport.summary(stats)
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
