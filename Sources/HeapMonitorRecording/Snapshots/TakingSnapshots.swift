import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// Sizes every live tracked object and records the process's memory.
    ///
    /// Objects are sized in registration order: data shared between tracked
    /// objects counts for the first of them, once; no tracked object's size
    /// includes another tracked object. Each object's referents are sized
    /// down to its resolution level. With `sizingObjects` false only memory
    /// (and the census) is recorded: that reads nothing of the heap and never
    /// fails.
    ///
    /// With the default `isolation` the objects are sized in a forked child
    /// that sees the heap frozen at one instant, so other threads may go on
    /// changing and freeing them; the snapshot returned is this call's own.
    ///
    /// ```swift
    /// let snapshot = try tracker.takeSnapshot(named: "after loading")
    /// print(snapshot.trackedBytes)
    /// ```
    ///
    /// - Throws: `AnalysisError` when the child crashed, timed out or could
    ///   not be forked; nothing is recorded then.
    @discardableResult
    public func takeSnapshot(
        named name: String = "", sizingObjects: Bool = true
    )
        throws(AnalysisError) -> Snapshot
    {
        try recordSnapshot(named: name, sizingObjects: sizingObjects)
    }

    /// A snapshot, taken in the background (memory sampled) or not.
    func recordSnapshot(
        named description: String, sizingObjects: Bool, isBackground: Bool = false
    )
        throws(AnalysisError) -> Snapshot
    {
        let census = censusIsOn ? census() : []
        return try state.withLock { (state) throws(AnalysisError) -> Snapshot in
            state.drain()
            // Only a snapshot that lists objects makes them permanent records:
            // memory-only background snapshots every few milliseconds would
            // otherwise keep a record of every object that outlived one.
            if sizingObjects { state.records.stabilise() }
            let objects = sizingObjects ? try state.sizeLiveObjects(isolation: state.isolation) : []
            let snapshot = Snapshot(
                description: description, time: MonitorClock.elapsed,
                memory: isBackground ? .sampled() : .current(),
                monitorBytes: state.monitorBytes, liveObjectCount: state.records.liveCount,
                objects: objects, census: census, sizedObjects: sizingObjects,
                isBackground: isBackground)
            state.snapshots.append(snapshot)
            if let limit = state.snapshotLimit, state.snapshots.count > limit {
                state.snapshots.removeFirst(state.snapshots.count - limit)
            }
            state.writeProfile(snapshot)
            return snapshot
        }
    }
}

extension TrackerState {
    /// The sizes of the live tracked objects, in registration order, computed
    /// where `isolation` says.
    mutating func sizeLiveObjects(isolation: AnalysisIsolation) throws(AnalysisError) -> [Snapshot.ObjectSize] {
        let idLimit = records.count
        return try analyse(
            isolation: isolation, { $0.sizeLiveObjects() },
            encode: { $0.objectSizes($1) },
            decode: { (decoder) throws(ProfileError.Problem) in
                var objects: [Snapshot.ObjectSize] = []
                try decoder.objectSizes(idLimit: idLimit) { objects.append($0) }
                return objects
            })
    }

    /// The sizes of the live tracked objects, in registration order, read here.
    mutating func sizeLiveObjects() -> [Snapshot.ObjectSize] {
        var engine = SizingEngine(checkingAddresses: true, layouts: layouts)
        var live: [Int] = []
        live.reserveCapacity(records.liveCount)
        for record in records.liveRecords {
            // A record whose object no longer has its class's metadata was freed
            // unseen (its death event is late), and one in its deinit is
            // being torn down: never read them.
            let address = records.addresses[record]
            guard engine.isReadableObject(address) else { continue }
            let metadata = UnsafeRawPointer(bitPattern: address)!.load(as: UnsafeRawPointer.self)
            if metadata == classMetadata[Int(records.classes[record])] { live.append(record) }
        }
        for record in live { engine.exclude(records.addresses[record]) }
        var sizes: [Snapshot.ObjectSize] = []
        sizes.reserveCapacity(live.count)
        for record in live {
            let address = records.addresses[record]
            let level = resolutionLevel(ofRecord: record)
            if level == 0 {
                let (size, flat) = engine.heapSize(ofExcluded: address)
                sizes.append(Snapshot.ObjectSize(object: record, size: size, flatSize: flat))
            } else if let node = engine.objectNode(address, name: "", level: level, excludedToo: true) {
                sizes.append(
                    Snapshot.ObjectSize(
                        object: record, size: node.size, flatSize: node.flatSize,
                        referents: node.referents))
            }
        }
        return sizes
    }
}
