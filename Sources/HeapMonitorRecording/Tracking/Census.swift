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
    /// classes are left out, and the standard library's storage classes
    /// are counted under the collection they belong to (`CensusGroups`).
    /// Bytes are each instance's own block, not what it keeps alive.
    public func census() -> [CensusEntry] {
        let rows = censusRows()
        return Self.censusEntries(rows, names: Self.censusNames(of: rows))
    }

    /// The entries of classes counted in `rows`, added up by name; nil
    /// names are left out.
    static func censusEntries(_ rows: [hm_census_row], names: [String?]) -> [CensusEntry] {
        var entries: [String: CensusEntry] = [:]
        for (row, name) in zip(rows, names) {
            guard let name else { continue }
            entries[name, default: CensusEntry(className: name, liveCount: 0, liveBytes: 0, allocations: 0)]
                .add(row)
        }
        return entries.values.sorted {
            ($0.liveBytes, $0.liveCount, $1.className) > ($1.liveBytes, $1.liveCount, $0.className)
        }
    }

    /// Census rows by metadata (immortal), named once per class; nil for
    /// the monitor's own classes. A census of a thousand classes takes one
    /// lock, not a runtime call a class.
    private static let knownNames = Locked<[UnsafeRawPointer: String?]>([:])

    private static func censusNames(of rows: [hm_census_row]) -> [String?] {
        var known = knownNames.withLock { $0 }
        var added = false
        let names = rows.map { row -> String? in
            guard let metadata = row.metadata else { return nil }
            if let name = known[metadata] { return name }
            let name = CensusGroups.row(for: Metadata(metadata).name)
            known[metadata] = .some(name)
            added = true
            return name
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

extension CensusEntry {
    /// Adds one class's counts (a row may stand for several classes).
    fileprivate mutating func add(_ row: hm_census_row) {
        liveCount += max(0, Int(row.allocations - row.deallocations))
        liveBytes += max(0, Int(row.allocated_bytes - row.deallocated_bytes))
        allocations += Int(row.allocations)
    }
}
