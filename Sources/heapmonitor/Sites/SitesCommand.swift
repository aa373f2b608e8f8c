import ArgumentParser
import HeapMonitor

/// `heapmonitor sites`: live traced objects by where they were made.
struct SitesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sites",
        abstract: "Live objects of traced classes by the site that made them.",
        discussion: """
            A site is the first frame of an object's instantiation trace past its allocating \
            initialiser, with file:line where the binary has debug information. Classes are traced \
            with Tracker.track(class:trace:) (HostMonitor traces the classes it is given). With \
            --since, sites are ordered by their growth since the earlier snapshot.
            """
    )

    @OptionGroup var options: ProfileOptions

    @Option(help: ArgumentHelp("The snapshot: \(SnapshotChoice.help) (default: last)."))
    var snapshot = "last"

    @Option(help: "An earlier snapshot to compare with: growth by site.")
    var since: String?

    @Option(help: "Sites listed.")
    var limit = 20

    func validate() throws {
        guard options.files.count == 1 else { throw ValidationError("give one profile file") }
    }

    func run() throws {
        let profile = try options.load().profiles[0]
        let at = try SnapshotChoice.index(snapshot, in: profile.snapshots)
        let earlier = try since.map { try SnapshotChoice.index($0, in: profile.snapshots) }
        let sites = profile.allocationSites(at: at, since: earlier)
        try options.emit(Array(sites.prefix(limit))) {
            guard !sites.isEmpty else { return "no traced objects live at snapshot \(at)" }
            let more = sites.count > limit ? "\n\(sites.count - limit) more sites not listed" : ""
            return AllocationSite.table(sites.prefix(limit), compared: earlier != nil) + more
        }
    }
}
