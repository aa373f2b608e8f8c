import HeapMonitorModel

/// How a long run's profile keeps its background snapshots: every one for
/// `fullRateSpan` after the first, then one per `window` — the window's
/// largest resident set, so peaks survive the thinning. A background
/// snapshot carries the census (a row per class, named) once per
/// `censusInterval` at most: a census of 1,000 classes with long generic
/// names is 200 KB, which every 20 ms was 860 GB a day.
///
/// At the default 20 ms interval a day of background snapshots is 4.3
/// million records (177 MB at 41 bytes, without a census); thinned by
/// default (every one for an hour, then one a second), 262,800. The tracker's own snapshots, sized
/// ones and those the program or a signal takes, are always written.
///
/// ```swift
/// Tracker.shared.backgroundThinning = .init(fullRateSpan: .seconds(600), window: .seconds(5))
/// ```
public struct BackgroundThinning: Hashable, Sendable {
    /// How long after the first background snapshot every one is written.
    public var fullRateSpan: Duration
    /// After that, one background snapshot is written per window.
    public var window: Duration
    /// The least time between two background snapshots with a census.
    public var censusInterval: Duration

    public init(
        fullRateSpan: Duration = .seconds(3_600), window: Duration = .seconds(1),
        censusInterval: Duration = .seconds(600)
    ) {
        self.fullRateSpan = max(.zero, fullRateSpan)
        self.window = max(.milliseconds(1), window)
        self.censusInterval = max(.zero, censusInterval)
    }

    /// Every background snapshot written, however long the run.
    public static let none = BackgroundThinning(fullRateSpan: .seconds(Int64.max / 2), censusInterval: .zero)
}

/// The thinning of one profile's background snapshots as they arrive.
struct BackgroundThinner {
    var policy: BackgroundThinning
    /// When the first background snapshot came (nil before it).
    private var origin: Duration?
    /// The largest of the current window, and where the window ends.
    private var pending: Snapshot?
    private var windowEnd: Duration = .zero
    /// When the last background snapshot with a census was taken.
    private var lastCensus: Duration?

    init(policy: BackgroundThinning = BackgroundThinning()) { self.policy = policy }

    /// What to write now that `snapshot` came: itself within the full-rate
    /// span; later, the previous window's peak once `snapshot` opens a new
    /// window, else nothing.
    mutating func admit(_ snapshot: Snapshot) -> Snapshot? {
        let origin = self.origin ?? snapshot.time
        self.origin = origin
        let age = snapshot.time - origin
        guard age >= policy.fullRateSpan else { return snapshot }
        if let current = pending, snapshot.time < windowEnd {
            if snapshot.memory.residentBytes > current.memory.residentBytes { pending = snapshot }
            return nil
        }
        let ended = pending
        pending = snapshot
        let windows = ((age - policy.fullRateSpan) / policy.window).rounded(.down)
        windowEnd = origin + policy.fullRateSpan + policy.window * (windows + 1)
        return ended
    }

    /// Whether a background snapshot taken at `time` takes a census.
    mutating func takesCensus(at time: Duration) -> Bool {
        if let last = lastCensus, time - last < policy.censusInterval { return false }
        lastCensus = time
        return true
    }

    /// The peak of the window under way, to write before anything later
    /// (records stay in time order); the next background snapshot opens a
    /// new window.
    mutating func closeWindow() -> Snapshot? {
        defer { pending = nil }
        return pending
    }

    /// `closeWindow()`, and the thinner starts over: for the profile's end.
    mutating func finish() -> Snapshot? {
        defer { self = BackgroundThinner(policy: policy) }
        return pending
    }
}
