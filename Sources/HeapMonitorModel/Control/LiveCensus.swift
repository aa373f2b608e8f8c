/// Live instances per class in a running process at one instant
/// (`heapmonitor census PID`), as `jcmd GC.class_histogram` prints for a JVM.
public struct LiveCensus: Hashable, Sendable, Codable {
    /// When it was counted, on the process's monitor clock.
    public var time: Duration
    /// The process's memory then.
    public var memory: ProcessMemory
    /// Classes, the most live bytes first (the first `limit` asked for).
    public var entries: [CensusEntry]
    /// Classes with live instances, including those beyond the limit.
    public var classCount: Int
    /// Live instances of every class, including those beyond the limit.
    public var liveCount: Int
    /// Their bytes.
    public var liveBytes: Int

    /// A census of the given figures.
    public init(
        time: Duration, memory: ProcessMemory, entries: [CensusEntry], classCount: Int, liveCount: Int,
        liveBytes: Int
    ) {
        self.time = time
        self.memory = memory
        self.entries = entries
        self.classCount = classCount
        self.liveCount = liveCount
        self.liveBytes = liveBytes
    }
}
