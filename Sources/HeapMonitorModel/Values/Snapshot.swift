/// What the tracker recorded at one instant: the size of every live tracked
/// object, and the process's memory.
public struct Snapshot: Hashable, Sendable, Codable {
    /// The text given to `Tracker.takeSnapshot(named:)`.
    public var description: String
    /// When it was taken, on the monitor's clock (as birth and death times).
    public var time: Duration
    /// The process's memory when the snapshot was taken.
    public var memory: ProcessMemory
    /// Bytes the monitor itself held: its tables, logs and earlier snapshots.
    public var monitorBytes: Int
    /// Tracked objects alive at the snapshot.
    public var liveObjectCount: Int
    /// Each live tracked object's size, in registration order; empty when the
    /// snapshot recorded memory only (a background snapshot that does not size).
    public var objects: [ObjectSize]
    /// Live class instances by class, when the census is on.
    public var census: [CensusEntry]
    /// Whether the tracked objects were sized (false for background
    /// snapshots that record memory only).
    public var sizedObjects: Bool
    /// Whether periodic snapshots took it in the background.
    public var isBackground: Bool

    /// Creates a snapshot record.
    public init(
        description: String, time: Duration, memory: ProcessMemory, monitorBytes: Int,
        liveObjectCount: Int, objects: [ObjectSize], census: [CensusEntry] = [], sizedObjects: Bool = true,
        isBackground: Bool = false
    ) {
        self.description = description
        self.time = time
        self.memory = memory
        self.monitorBytes = monitorBytes
        self.liveObjectCount = liveObjectCount
        self.objects = objects
        self.census = census
        self.sizedObjects = sizedObjects
        self.isBackground = isBackground
    }

    /// Sum of the tracked objects' sizes (each byte counted once).
    public var trackedBytes: Int { objects.reduce(0) { $0 + $1.size } }

    /// The size recorded for the tracked object `id`, if it was sized.
    public func size(of id: Int) -> ObjectSize? {
        // Objects are in registration order, which is id order.
        var low = 0, high = objects.count
        while low < high {
            let mid = (low + high) / 2
            if objects[mid].object < id { low = mid + 1 } else { high = mid }
        }
        return low < objects.count && objects[low].object == id ? objects[low] : nil
    }

    /// One tracked object's size in a snapshot.
    public struct ObjectSize: Hashable, Sendable, Codable {
        /// The tracked object's id (`TrackedObject.id`).
        public var object: Int
        /// Bytes it keeps alive that no earlier tracked object does, never
        /// including another tracked object.
        public var size: Int
        /// Its own heap block.
        public var flatSize: Int
        /// Its referents' sizes, down to its resolution level (empty at level 0).
        public var referents: [SizedNode]

        /// Creates a record.
        public init(object: Int, size: Int, flatSize: Int, referents: [SizedNode] = []) {
            self.object = object
            self.size = size
            self.flatSize = flatSize
            self.referents = referents
        }
    }
}
