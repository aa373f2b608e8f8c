import HeapMonitorModel

/// Censuses of one process over a sliding window, and how fast each class
/// grows in it: what `heapmonitor top` shows.
///
/// ```swift
/// var history = CensusHistory(window: .seconds(10))
/// history.record(try client.census())
/// // a second later
/// history.record(try client.census())
/// for row in history.rows(by: .growth).prefix(5) {
///     print(row.className, row.bytesPerSecond)
/// }
/// ```
public struct CensusHistory: Sendable {
    /// The span growth is measured over: the oldest census kept is the
    /// newest one at least this old.
    public var window: Duration
    /// The censuses kept, oldest first.
    public private(set) var censuses: [LiveCensus] = []

    /// An empty history measuring growth over `window`.
    public init(window: Duration = .seconds(10)) {
        self.window = window
    }

    /// The newest census.
    public var latest: LiveCensus? { censuses.last }

    /// The span the rates are measured over now (zero until two censuses).
    public var span: Duration {
        guard let first = censuses.first, let last = censuses.last else { return .zero }
        return last.time - first.time
    }

    /// Adds `census`, dropping those no longer needed to cover the window.
    /// A census older than the newest one (another process, a restarted
    /// monitor) starts the history again.
    public mutating func record(_ census: LiveCensus) {
        if let last = censuses.last, census.time < last.time { censuses.removeAll() }
        censuses.append(census)
        while censuses.count > 2, census.time - censuses[1].time >= window { censuses.removeFirst() }
    }

    /// One class now, with its growth over the span.
    public struct Row: Hashable, Sendable {
        /// The class, fully qualified.
        public var className: String
        /// Instances alive in the newest census.
        public var liveCount: Int
        /// Their bytes.
        public var liveBytes: Int
        /// Live instances gained per second over the span (negative: lost).
        public var countPerSecond: Double
        /// Live bytes gained per second over the span.
        public var bytesPerSecond: Double
    }

    /// What the rows are ordered by, the largest first.
    public enum Order: String, CaseIterable, Sendable {
        /// Live bytes.
        case bytes
        /// Live instances.
        case count
        /// Live bytes gained per second.
        case growth
    }

    /// Every class of the newest census (and those of the oldest that died
    /// out since, at zero), ordered by `order`, then by bytes and name.
    public func rows(by order: Order) -> [Row] {
        guard let first = censuses.first, let last = censuses.last else { return [] }
        let seconds = span.inSeconds
        var before: [String: CensusEntry] = [:]
        for entry in first.entries { before[entry.className] = entry }
        var rows: [Row] = []
        for entry in last.entries {
            let old = before.removeValue(forKey: entry.className)
            rows.append(row(entry.className, now: entry, before: old, over: seconds))
        }
        for (name, old) in before { rows.append(row(name, now: nil, before: old, over: seconds)) }
        return rows.sorted { lhs, rhs in
            let keys: (Double, Double)
            switch order {
            case .bytes: keys = (Double(lhs.liveBytes), Double(rhs.liveBytes))
            case .count: keys = (Double(lhs.liveCount), Double(rhs.liveCount))
            case .growth: keys = (lhs.bytesPerSecond, rhs.bytesPerSecond)
            }
            if keys.0 != keys.1 { return keys.0 > keys.1 }
            if lhs.liveBytes != rhs.liveBytes { return lhs.liveBytes > rhs.liveBytes }
            return lhs.className < rhs.className
        }
    }

    private func row(_ name: String, now: CensusEntry?, before: CensusEntry?, over seconds: Double) -> Row {
        let count = now?.liveCount ?? 0, bytes = now?.liveBytes ?? 0
        guard seconds > 0 else {
            return Row(className: name, liveCount: count, liveBytes: bytes, countPerSecond: 0, bytesPerSecond: 0)
        }
        return Row(
            className: name, liveCount: count, liveBytes: bytes,
            countPerSecond: Double(count - (before?.liveCount ?? 0)) / seconds,
            bytesPerSecond: Double(bytes - (before?.liveBytes ?? 0)) / seconds)
    }
}
