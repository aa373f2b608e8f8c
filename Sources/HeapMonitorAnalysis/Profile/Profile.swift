import HeapMonitorModel

/// A profile file, loaded: what a tracker recorded, for off-line analysis.
public struct Profile: Sendable {
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

    /// A snapshot as recorded.
    public struct Snapshot: Hashable, Sendable {
        /// When it was taken, on the monitor's clock.
        public var time: Duration
        /// Its description.
        public var description: String
        /// The process's memory.
        public var memory: ProcessMemory
        /// Bytes the monitor held.
        public var monitorBytes: Int
        /// Tracked objects alive.
        public var liveObjectCount: Int
        /// Ids of the objects sized, ascending.
        public var objectIDs: [Int32] = []
        /// Their sizes, parallel to `objectIDs`.
        public var sizes: [Int] = []
        /// Their own blocks' sizes, parallel to `objectIDs`.
        public var flatSizes: [Int] = []
        /// Referent trees of objects sized above level 0, by object id.
        public var referents: [Int: [SizedNode]] = [:]
        /// Live instances by class, when the census was on.
        public var census: [CensusEntry] = []
        /// Short-lived instances counted so far, by class.
        public var shortLived: [ShortLivedRow] = []

        /// Sum of the tracked objects' sizes.
        public var trackedBytes: Int { sizes.reduce(0, +) }

        /// Whether this snapshot sized the tracked objects; background
        /// snapshots record only memory (and census).
        public var sizedObjects = true
        /// Whether periodic snapshots took it in the background (not one of
        /// the program's own instants).
        public var isBackground = false

        /// The position of `objectID` in the parallel arrays.
        public func index(of objectID: Int) -> Int? {
            var low = 0, high = objectIDs.count
            while low < high {
                let mid = (low + high) / 2
                if Int(objectIDs[mid]) < objectID { low = mid + 1 } else { high = mid }
            }
            return low < objectIDs.count && Int(objectIDs[low]) == objectID ? low : nil
        }
    }

    /// A leak scan as recorded.
    public struct LeakScan: Hashable, Sendable {
        /// When it ran, on the monitor's clock.
        public var time: Duration
        /// What it found.
        public var report: LeakReport
    }

    /// Instances of one class born and freed between snapshots.
    public struct ShortLivedRow: Hashable, Sendable {
        /// Index into `classNames`.
        public var classID: Int
        /// How many instances so far.
        public var count: Int
        /// Their summed lifetimes.
        public var totalLifetime: Duration
    }
}
