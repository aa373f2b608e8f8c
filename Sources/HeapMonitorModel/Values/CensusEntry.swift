/// Live instances of one class, counted by the hooks (`Tracker.census()`);
/// the standard library's storage classes are counted under their
/// collection (`className` is then `Array<Element> storage` and the like).
public struct CensusEntry: Hashable, Sendable, Codable {
    /// The class, fully qualified.
    public var className: String
    /// Instances alive now.
    public var liveCount: Int
    /// Their flat bytes: each instance's own block as the allocator holds
    /// it, not what the instance keeps alive.
    public var liveBytes: Int
    /// Instances allocated since the census started.
    public var allocations: Int

    /// A row for `className`: `liveCount` instances of `liveBytes` alive,
    /// `allocations` made.
    public init(className: String, liveCount: Int, liveBytes: Int, allocations: Int) {
        self.className = className
        self.liveCount = liveCount
        self.liveBytes = liveBytes
        self.allocations = allocations
    }
}
