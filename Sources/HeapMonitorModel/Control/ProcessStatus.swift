/// What the monitor does in a running process (`heapmonitor status PID`).
public struct ProcessStatus: Hashable, Sendable, Codable {
    /// The process.
    public var pid: Int32
    /// Its executable's path.
    public var program: String
    /// Time since the monitor's clock started.
    public var uptime: Duration
    /// Its memory now.
    public var memory: ProcessMemory
    /// Classes registered for tracking.
    public var trackedClasses: [TrackedClass]
    /// Tracked objects alive.
    public var liveTrackedObjects: Int
    /// The profile being written, if any, and its size so far.
    public var profilePath: String?
    /// Bytes of the profile file on disk.
    public var profileBytes: Int
    /// The monitor's own memory: records, tables, the last snapshots.
    public var monitorBytes: Int
    /// Allocation events the hooks could not record (their queue was full).
    public var droppedEvents: Int
    /// Whether live instances are counted per class (`census`).
    public var countsInstances: Bool
    /// Whether every class's instances are recorded for leak scans.
    public var watchesForLeaks: Bool
    /// The signal that takes a snapshot, if one is installed.
    public var snapshotSignal: Int32?
    /// The allocator in use: `glibc`, `jemalloc`, `tcmalloc` or `unknown
    /// allocator` (sizes are then its usable sizes).
    public var allocator: String

    /// A class registered for tracking.
    public struct TrackedClass: Hashable, Sendable, Codable {
        /// Its fully qualified name.
        public var name: String
        /// The resolution level its instances are sized at.
        public var resolutionLevel: Int
        /// Whether allocation traces are recorded.
        public var trace: Bool
        /// False once untracked: instances tracked before are still followed.
        public var tracksNewInstances: Bool

        /// A class registration as the status lists it.
        public init(name: String, resolutionLevel: Int, trace: Bool, tracksNewInstances: Bool) {
            self.name = name
            self.resolutionLevel = resolutionLevel
            self.trace = trace
            self.tracksNewInstances = tracksNewInstances
        }
    }

    /// A status of the given figures.
    public init(
        pid: Int32, program: String, uptime: Duration, memory: ProcessMemory, trackedClasses: [TrackedClass],
        liveTrackedObjects: Int, profilePath: String?, profileBytes: Int, monitorBytes: Int, droppedEvents: Int,
        countsInstances: Bool, watchesForLeaks: Bool, snapshotSignal: Int32?, allocator: String
    ) {
        self.pid = pid
        self.program = program
        self.uptime = uptime
        self.memory = memory
        self.trackedClasses = trackedClasses
        self.liveTrackedObjects = liveTrackedObjects
        self.profilePath = profilePath
        self.profileBytes = profileBytes
        self.monitorBytes = monitorBytes
        self.droppedEvents = droppedEvents
        self.countsInstances = countsInstances
        self.watchesForLeaks = watchesForLeaks
        self.snapshotSignal = snapshotSignal
        self.allocator = allocator
    }
}
