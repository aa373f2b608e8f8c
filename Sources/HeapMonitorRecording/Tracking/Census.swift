import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// Starts counting live instances of every class by class: two table
    /// updates per allocation and deallocation, cheap enough to leave on.
    /// Instances allocated before the census started are not counted.
    /// Classes of the standard library are left out (their storage is freed
    /// inside it, where the hooks cannot see).
    public func startCensus() throws(HookError) {
        try AllocationHooks.install()
        hm_census_enable(1)
    }

    /// Stops counting; the counts so far are kept.
    public func stopCensus() { hm_census_enable(0) }

    var censusIsOn: Bool { hm_census_enabled() != 0 }

    /// Live instances by class, the most bytes first; the monitor's own
    /// classes are left out.
    public func census() -> [CensusEntry] {
        let rows = censusRows()
        let names = Self.censusNames(of: rows)
        return zip(rows, names).compactMap { row, name in
            guard let name else { return nil }
            return CensusEntry(
                className: name,
                liveCount: max(0, Int(row.allocations - row.deallocations)),
                liveBytes: max(0, Int(row.allocated_bytes - row.deallocated_bytes)),
                allocations: Int(row.allocations))
        }.sorted { ($0.liveBytes, $0.liveCount, $1.className) > ($1.liveBytes, $1.liveCount, $0.className) }
    }

    /// Class names by metadata (immortal), asked of the runtime once per
    /// class; nil for the monitor's own classes. A census of a thousand
    /// classes takes one lock, not a runtime call a class.
    private static let knownNames = Locked<[UnsafeRawPointer: String?]>([:])

    private static func censusNames(of rows: [hm_census_row]) -> [String?] {
        var known = knownNames.withLock { $0 }
        var added = false
        let names = rows.map { row -> String? in
            guard let metadata = row.metadata else { return nil }
            if let name = known[metadata] { return name }
            let name = Metadata(metadata).name
            let kept = MonitorClasses.contains(name) ? nil : name
            known[metadata] = .some(kept)
            added = true
            return kept
        }
        if added { knownNames.withLock { $0 = known } }
        return names
    }

    private func censusRows() -> [hm_census_row] {
        var capacity = 1024
        while true {
            var rows = [hm_census_row](repeating: hm_census_row(), count: capacity)
            let count = hm_census_read(&rows, capacity)
            if count < capacity { return Array(rows[..<count]) }
            capacity *= 4
        }
    }
}
