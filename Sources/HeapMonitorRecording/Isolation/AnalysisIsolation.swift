/// Where the tracker runs the work that reads the live heap — snapshots
/// that size objects, and leak scans.
///
/// ```swift
/// Tracker.shared.isolation = .forked(timeout: .seconds(10))
/// let snapshot = try Tracker.shared.takeSnapshot(named: "under load")
/// ```
///
/// - `forked` (the default): in a child made with `fork`, which sees a
///   copy-on-write image of the whole heap frozen at one instant, while the
///   program's threads go on. Nothing changes what the child reads, and a
///   fault or a hang there is the child's alone: the call throws an
///   `AnalysisError` and the program is unharmed. It costs the program the
///   `fork` itself (page tables are copied: about 13 ms per GB of resident
///   memory in 4 KiB pages, far less with huge pages) and the first write to
///   each page it shares with the child.
/// - `inProcess`: in the calling thread, reading the heap as it changes.
///   Only for callers where no other thread changes or frees the objects
///   read — tests, the end of a single-threaded program — or where `fork`
///   is not allowed.
public struct AnalysisIsolation: Hashable, Sendable, CustomStringConvertible {
    /// The child's time limit; nil in process.
    public let timeout: Duration?

    /// In a forked child, killed if it takes longer than `timeout`.
    public static func forked(timeout: Duration) -> AnalysisIsolation {
        AnalysisIsolation(timeout: max(timeout, .milliseconds(1)))
    }

    /// In a forked child with a one-minute limit.
    public static let forked = AnalysisIsolation.forked(timeout: .seconds(60))

    /// In the calling thread.
    public static let inProcess = AnalysisIsolation(timeout: nil)

    /// Whether the work runs in a forked child.
    public var isForked: Bool { timeout != nil }

    public var description: String { timeout.map { "forked (time-out \($0))" } ?? "in process" }
}

/// How the last isolated analysis went, for monitoring the monitor.
public struct IsolatedAnalysis: Hashable, Sendable {
    /// How long `fork` held the calling thread, summed over the children (the
    /// program's other threads run meanwhile, but wait for the address space
    /// if they map memory).
    public var pause: Duration
    /// From just before the fork to the result read back.
    public var latency: Duration
    /// Bytes of result the child sent.
    public var resultBytes: Int
    /// Children forked. A child makes no runtime lookup that takes a lock
    /// (one another thread held at the fork would stay held); the layouts
    /// and names it needed are made here and the analysis forks again, a
    /// few times at most. A child that blocks on a lock anyway is killed and
    /// replaced. After the first analysis of a program, usually one child.
    public var forks: Int
    /// Layouts and names the last child did without (sized flat, or named
    /// from their descriptor); 0 when the result is complete.
    public var deferredLookups: Int
}
