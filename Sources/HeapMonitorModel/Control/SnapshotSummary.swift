/// A snapshot taken on request in a running process
/// (`heapmonitor snapshot PID`): its figures, and where it was written.
public struct SnapshotSummary: Hashable, Sendable, Codable {
    /// The description it was given.
    public var description: String
    /// When it was taken, on the process's monitor clock.
    public var time: Duration
    /// The process's memory then.
    public var memory: ProcessMemory
    /// Bytes of the tracked objects sized.
    public var trackedBytes: Int
    /// Tracked objects sized.
    public var objectCount: Int
    /// The profile it went into; nil when the process writes none.
    public var profilePath: String?

    /// A summary of the given figures.
    public init(
        description: String, time: Duration, memory: ProcessMemory, trackedBytes: Int, objectCount: Int,
        profilePath: String?
    ) {
        self.description = description
        self.time = time
        self.memory = memory
        self.trackedBytes = trackedBytes
        self.objectCount = objectCount
        self.profilePath = profilePath
    }
}
