/// What the tracker recorded at one instant: the size of every live tracked
/// object, and the process's memory — as the tracker returns it and as a
/// profile holds it.
///
/// The objects' sizes are kept in parallel arrays (`objectIDs`, `sizes`,
/// `flatSizes`), so that a profile of a million objects over many snapshots
/// stays compact; `objects` presents them one `ObjectSize` at a time.
///
/// ```swift
/// let snapshot = try tracker.takeSnapshot(named: "after load")
/// for object in snapshot.objects where object.size > 1 << 20 { print(object.object) }
/// ```
public struct Snapshot: Hashable, Sendable, Codable {
    /// The text given to `Tracker.takeSnapshot(named:sizingObjects:)`.
    public var description: String
    /// When it was taken, on the monitor's clock (as birth and death times).
    public var time: Duration
    /// The process's memory when the snapshot was taken.
    public var memory: ProcessMemory
    /// Bytes the monitor itself held: its tables, logs and earlier snapshots.
    public var monitorBytes: Int
    /// Tracked objects alive at the snapshot.
    public var liveObjectCount: Int
    /// Ids of the objects sized, ascending (registration order); empty when
    /// the snapshot recorded memory only (a background snapshot).
    public package(set) var objectIDs: [Int32] = []
    /// Their sizes, parallel to `objectIDs`.
    public package(set) var sizes: [Int] = []
    /// Their own blocks' sizes, parallel to `objectIDs`.
    public package(set) var flatSizes: [Int] = []
    /// Their referent trees, parallel to `objectIDs` up to the last object
    /// that has one (empty when all were sized at level 0, as most are in a
    /// large profile): see `referentTree(at:)`.
    private var referentTrees: [[SizedNode]] = []
    /// Live class instances by class, when the census is on.
    public var census: [CensusEntry]
    /// Instances of tracked classes born and freed between snapshots, counted
    /// so far; in a profile (a live snapshot leaves them to
    /// `Tracker.shortLivedObjects`).
    public var shortLived: [ShortLived] = []
    /// Whether the tracked objects were sized (false for background
    /// snapshots that record memory only).
    public var sizedObjects: Bool
    /// Whether periodic snapshots took it in the background.
    public var isBackground: Bool

    /// Creates a snapshot record of `objects` (in id order).
    public init(
        description: String, time: Duration, memory: ProcessMemory, monitorBytes: Int,
        liveObjectCount: Int, objects: [ObjectSize] = [], census: [CensusEntry] = [], sizedObjects: Bool = true,
        isBackground: Bool = false
    ) {
        self.description = description
        self.time = time
        self.memory = memory
        self.monitorBytes = monitorBytes
        self.liveObjectCount = liveObjectCount
        self.census = census
        self.sizedObjects = sizedObjects
        self.isBackground = isBackground
        objectIDs.reserveCapacity(objects.count)
        sizes.reserveCapacity(objects.count)
        flatSizes.reserveCapacity(objects.count)
        for object in objects { append(object) }
    }

    /// Adds an object sized after those already here (a higher id).
    package mutating func append(_ object: ObjectSize) {
        objectIDs.append(Int32(truncatingIfNeeded: object.object))
        sizes.append(object.size)
        flatSizes.append(object.flatSize)
        if !object.referents.isEmpty { setReferentTree(object.referents, at: objectIDs.count - 1) }
    }

    /// Each sized object, in id order.
    public var objects: ObjectSizes { ObjectSizes(self) }

    /// Sum of the tracked objects' sizes (each byte counted once).
    public var trackedBytes: Int { sizes.reduce(0, +) }

    /// The position of `objectID` in the parallel arrays, if it was sized.
    public func index(of objectID: Int) -> Int? {
        var low = 0, high = objectIDs.count
        while low < high {
            let mid = (low + high) / 2
            if Int(objectIDs[mid]) < objectID { low = mid + 1 } else { high = mid }
        }
        return low < objectIDs.count && Int(objectIDs[low]) == objectID ? low : nil
    }

    /// The referent tree of the object at `position` in the parallel
    /// arrays: empty when it was sized at level 0.
    public func referentTree(at position: Int) -> [SizedNode] {
        position < referentTrees.count ? referentTrees[position] : []
    }

    /// Sets the referent tree of the object at `position`. The trees end at
    /// the last non-empty one, so that equal snapshots compare equal.
    package mutating func setReferentTree(_ tree: [SizedNode], at position: Int) {
        if tree.isEmpty && position >= referentTrees.count { return }
        if referentTrees.count <= position {
            referentTrees.append(contentsOf: repeatElement([], count: position + 1 - referentTrees.count))
        }
        referentTrees[position] = tree
    }

    /// The referent tree recorded for the tracked object `id`, if it was
    /// sized above level 0.
    public func referents(of id: Int) -> [SizedNode]? {
        guard let position = index(of: id) else { return nil }
        let tree = referentTree(at: position)
        return tree.isEmpty ? nil : tree
    }

    /// The size recorded for the tracked object `id`, if it was sized.
    public func size(of id: Int) -> ObjectSize? { index(of: id).map { objects[$0] } }

    /// Instances of one class born and freed between snapshots.
    public struct ShortLived: Hashable, Sendable, Codable {
        /// Index into the profile's `classNames`.
        public var classID: Int
        /// How many instances so far.
        public var count: Int
        /// Their summed lifetimes.
        public var totalLifetime: Duration

        /// A row of `count` instances of class `classID`.
        public init(classID: Int, count: Int, totalLifetime: Duration) {
            self.classID = classID
            self.count = count
            self.totalLifetime = totalLifetime
        }
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
