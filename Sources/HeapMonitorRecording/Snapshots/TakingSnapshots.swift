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
        let takesCensus =
            censusIsOn
            && (!isBackground || state.withLock { $0.backgroundThinner.takesCensus(at: MonitorClock.elapsed) })
        let census = takesCensus ? census() : []
        return try state.withLock { (state) throws(AnalysisError) -> Snapshot in
            let snapshot = try state.recordSnapshot(
                named: description, sizingObjects: sizingObjects, isBackground: isBackground, census: census)
            state.record(snapshot)
            return snapshot
        }
    }

    /// A sized snapshot written into a new profile at `path` that holds it
    /// and the classes, traces and objects it names; the program's own
    /// profile, if any, does not get it.
    func takeSnapshot(
        named description: String, intoNewProfileAt path: String
    ) throws(SnapshotFileError) -> Snapshot {
        var writer: ProfileWriter?
        do { writer = try ProfileWriter(path: path) } catch { throw .profile(error) }
        let census = censusIsOn ? census() : []
        return try state.withLock { (state) throws(SnapshotFileError) -> Snapshot in
            let snapshot: Snapshot
            do throws(AnalysisError) {
                snapshot = try state.recordSnapshot(
                    named: description, sizingObjects: true, isBackground: false, census: census)
            } catch {
                throw .analysis(error)
            }
            let programs = state.profile.take()
            let thinner = state.backgroundThinner
            state.profile = writer.take()
            state.backgroundThinner = BackgroundThinner(policy: thinner.policy)
            state.writeProfile(snapshot)
            let failure = state.finishProfile()
            state.profile = consume programs
            state.backgroundThinner = thinner
            if let failure { throw .profile(failure) }
            return snapshot
        }
    }
}

/// Why a snapshot into a file of its own failed.
enum SnapshotFileError: Error, CustomStringConvertible {
    case analysis(AnalysisError)
    case profile(ProfileError)

    var description: String {
        switch self {
        case .analysis(let error): "\(error)"
        case .profile(let error): "\(error)"
        }
    }
}

extension TrackerState {
    /// Takes a snapshot and keeps it (within the snapshot limit).
    mutating func recordSnapshot(
        named description: String, sizingObjects: Bool, isBackground: Bool, census: [CensusEntry]
    ) throws(AnalysisError) -> Snapshot {
        drain()
        // Only a snapshot that lists objects makes them permanent records:
        // memory-only background snapshots every few milliseconds would
        // otherwise keep a record of every object that outlived one.
        if sizingObjects { records.stabilise() }
        let objects = sizingObjects ? try sizeLiveObjects(isolation: isolation) : []
        let snapshot = Snapshot(
            description: description, time: MonitorClock.elapsed,
            memory: isBackground ? .sampled() : .current(),
            monitorBytes: monitorBytes, liveObjectCount: records.liveCount,
            objects: objects, census: census, sizedObjects: sizingObjects,
            isBackground: isBackground)
        snapshots.append(snapshot)
        if let limit = snapshotLimit, snapshots.count > limit {
            snapshots.removeFirst(snapshots.count - limit)
        }
        return snapshot
    }

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
