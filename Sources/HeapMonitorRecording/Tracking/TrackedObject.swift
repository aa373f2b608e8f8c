import HeapMonitorModel

/// An object the tracker follows: tracked by itself or as an instance of a
/// tracked class. Live objects are sized by every snapshot.
public struct TrackedObject: Hashable, Sendable, Identifiable {
    /// Position in registration order: data shared with a later object is
    /// counted for the earlier one.
    public var id: Int
    /// The object's dynamic class, fully qualified.
    public var className: String
    /// The name given to `Tracker.track(_:name:resolutionLevel:)`.
    public var name: String?
    /// Where the object lives (lived).
    public var address: UInt
    /// When it was allocated (tracked as a class instance) or first tracked.
    public var birth: Duration
    /// When it was freed; nil while it is alive.
    public var death: Duration?
    /// How deep its snapshots size referents (0: its total only).
    public var resolutionLevel: Int
    /// The call stack that allocated it, for classes tracked with `trace: true`.
    public var trace: InstantiationTrace?

    /// Whether the object is still alive.
    public var isAlive: Bool { death == nil }
}

/// Instances of a tracked class that were born and freed between two reads of
/// the tracker: counted, not kept, so that churn does not grow the monitor.
public struct ShortLivedObjects: Hashable, Sendable {
    /// The instances' class.
    public var className: String
    /// How many there were.
    public var count: Int
    /// Their summed lifetimes.
    public var totalLifetime: Duration
}
