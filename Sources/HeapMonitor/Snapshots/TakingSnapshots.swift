import CHeapMonitor

extension Tracker {
    /// Sizes every live tracked object and records the process's memory.
    ///
    /// Objects are sized in registration order: data shared between tracked
    /// objects counts for the first of them, once; no tracked object's size
    /// includes another tracked object. Each object's referents are sized
    /// down to its resolution level.
    ///
    /// Call it where tracked objects are not being changed or freed by other
    /// threads: sizing reads them without retaining them.
    @discardableResult
    public func createSnapshot(_ description: String = "") -> Snapshot {
        takeSnapshot(description, sizingObjects: true)
    }

    func takeSnapshot(_ description: String, sizingObjects: Bool, isBackground: Bool = false) -> Snapshot {
        let census = censusIsOn ? census() : []
        return state.withLock { state in
            state.drain()
            // Only a snapshot that lists objects makes them permanent records:
            // memory-only background snapshots every few milliseconds would
            // otherwise keep a record of every object that outlived one.
            if sizingObjects { state.records.stabilise() }
            let objects = sizingObjects ? state.sizeLiveObjects() : []
            let snapshot = Snapshot(description: description, time: MonitorClock.elapsed, memory: isBackground ? .sampled() : .current(),
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
    /// The sizes of the live tracked objects, in registration order.
    mutating func sizeLiveObjects() -> [Snapshot.ObjectSize] {
        var live: [Int] = []
        live.reserveCapacity(records.liveCount)
        for record in 0..<records.count where records.deaths[record] == 0 {
            // A record whose object no longer has its class's metadata was freed
            // unseen (its death event is late): never read it.
            let address = records.addresses[record]
            let metadata = UnsafeRawPointer(bitPattern: address)!.load(as: UnsafeRawPointer.self)
            if metadata == classMetadata[Int(records.classes[record])] { live.append(record) }
        }
        var engine = SizingEngine()
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
                sizes.append(Snapshot.ObjectSize(object: record, size: node.size, flatSize: node.flatSize,
                                                 referents: node.referents))
            }
        }
        return sizes
    }
}
