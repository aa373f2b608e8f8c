import HeapMonitorModel

/// A profile file, loaded: what a tracker recorded, for off-line analysis.
public struct Profile: Sendable {
    /// This profile's identity among others loaded in the process; copies
    /// of the value share it.
    public let id = ID.next()
    /// The file it was read from.
    public var path: String
    /// Class names by class id.
    public var classNames: [String] = []
    /// Instantiation traces by trace id, symbolicated when written.
    public var traces: [[String]] = []
    /// Tracked objects by object id (registration order).
    public var objects: [Object] = []
    /// Snapshots in the order taken.
    public var snapshots: [Snapshot] = []
    /// Leak scans (`Tracker.findLeaks()`) made while the profile was written.
    public var leakScans: [LeakScan] = []
    /// Heap graphs (`Tracker.captureHeapGraph()`) taken while the profile
    /// was written.
    public var heapGraphs: [HeapGraphCapture] = []
    /// Whether the file was closed properly; false for the file of a program
    /// that was killed, which loads up to its last complete record.
    public var isComplete = false
    /// Bytes at the end of the file that hold no complete record (a killed
    /// program's last, unfinished write).
    public var unreadBytes = 0

    /// Creates an empty profile.
    public init(path: String) { self.path = path }

    /// A tracked object as recorded.
    public struct Object: Hashable, Sendable {
        /// Index into `classNames`.
        public var classID: Int
        /// The name given when it was tracked.
        public var name: String?
        /// When it was born (or first tracked), on the monitor's clock.
        public var birth: Duration
        /// When it died; nil if it was alive when the file ended.
        public var death: Duration?
        /// Its resolution level.
        public var resolutionLevel: Int
        /// Index into `traces`, or nil.
        public var traceID: Int?
    }

    /// A heap graph as recorded.
    public struct HeapGraphCapture: Hashable, Sendable {
        /// When it was taken, on the monitor's clock.
        public var time: Duration
        /// The graph.
        public var graph: HeapGraph
    }

    /// A leak scan as recorded.
    public struct LeakScan: Hashable, Sendable {
        /// When it ran, on the monitor's clock.
        public var time: Duration
        /// What it found.
        public var report: LeakReport
    }
}
