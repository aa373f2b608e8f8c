import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// Starts counting live instances of every class by class: two table
    /// updates per allocation and deallocation. Instances allocated before
    /// the census started are not counted until
    /// `countInstancesAliveBeforeCensus()` walks the heap for them.
    /// Classes of the standard library are left out (their storage is freed
    /// inside it, where the hooks cannot see).
    public func startCensus() throws(HookError) {
        try AllocationHooks.install()
        hm_census_enable(1)
    }

    /// Counts, once, the instances the census has not seen born — alive
    /// before it started, or before the hooks were installed — by walking
    /// the heap for Swift objects, with the default `isolation` in a forked
    /// child. Later calls do nothing. Starts the census if it is off.
    ///
    /// The walk reads every block of the heap (a 405 MiB heap in 0.25 s) and
    /// counts an object only if its header proves it live (its class's
    /// metadata, a live reference count, with glibc a block in use), so
    /// the counts are exact but for objects being made or freed at the
    /// instant of the fork.
    ///
    /// ```swift
    /// try tracker.startCensus()
    /// try tracker.countInstancesAliveBeforeCensus()
    /// print(tracker.census().prefix(10))
    /// ```
    ///
    /// - Throws: `CensusError` when the hooks could not be installed or the
    ///   child failed; the census goes on without those instances, and a
    ///   later call walks again.
    public func countInstancesAliveBeforeCensus() throws(CensusError) {
        do { try startCensus() } catch { throw .hooks(error) }
        do { try walkHeapForCensus(again: false) } catch { throw .walk(error) }
    }

    /// Walks the heap for the instances the census's tables have not seen
    /// born, unless that was done and `again` is false. Without hooks (a
    /// static executable linked without the wraps) the tables see nothing,
    /// and each census is a walk of its own.
    func walkHeapForCensus(again: Bool) throws(AnalysisError) {
        try state.withLock { (state) throws(AnalysisError) in
            guard again || state.censusSeed == nil else { return }
            let ranges = RootRanges.current()
            guard
                let seed = try state.analyse(
                    isolation: state.isolation, { _ in CensusSeed.walk(excluding: ranges) },
                    encode: { $0.censusSeed($1) },
                    decode: { (decoder) throws(ProfileError.Problem) in try decoder.censusSeed() })
            else { throw AnalysisError.malformedResult("the heap walk could not map its tables or read the map") }
            let counted = Set(Self.censusRows().compactMap { $0.metadata.map(UInt.init(bitPattern:)) })
            state.censusSeed = seed.keepingThisProcesssClasses(counted: counted)
        }
    }

    /// Stops counting; the counts so far are kept.
    public func stopCensus() { hm_census_enable(0) }

    var censusIsOn: Bool { hm_census_enabled() != 0 }

    /// Live instances by class, the most bytes first; the monitor's own
    /// classes are left out, and the standard library's storage classes
    /// are counted under the collection they belong to (`CensusGroups`).
    /// Bytes are each instance's own block, not what it keeps alive.
    public func census() -> [CensusEntry] {
        var rows = Self.censusRows()
        let seed = state.withLock { $0.censusSeed?.rows } ?? [:]
        let counted = Set(rows.compactMap { $0.metadata.map(UInt.init(bitPattern:)) })
        for metadata in seed.keys where !counted.contains(metadata) {
            var row = hm_census_row()
            row.metadata = UnsafeRawPointer(bitPattern: metadata)
            rows.append(row)
        }
        return Self.censusEntries(rows, names: Self.censusNames(of: rows), seed: seed)
    }

    /// The entries of classes counted in `rows` and `seed`, added up by
    /// name; nil names are left out.
    static func censusEntries(
        _ rows: [hm_census_row], names: [String?], seed: [UInt: CensusSeed.Row] = [:]
    ) -> [CensusEntry] {
        var entries: [String: CensusEntry] = [:]
        for (row, name) in zip(rows, names) {
            guard let name else { continue }
            entries[name, default: CensusEntry(className: name, liveCount: 0, liveBytes: 0, allocations: 0)]
                .add(row, seed: row.metadata.flatMap { seed[UInt(bitPattern: $0)] } ?? CensusSeed.Row())
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

    static func censusRows() -> [hm_census_row] {
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
    /// Adds one class's counts and its seed (a row may stand for several
    /// classes).
    fileprivate mutating func add(_ row: hm_census_row, seed: CensusSeed.Row) {
        // Wrapping: a seed comes from a child's reading of the heap.
        liveCount &+= max(0, seed.count &+ Int(row.allocations &- row.deallocations))
        liveBytes &+= max(0, seed.bytes &+ Int(row.allocated_bytes &- row.deallocated_bytes))
        allocations += Int(row.allocations)
    }
}
