import CHeapMonitor

/// How a class is registered with the tracker.
struct ClassRegistration {
    var resolutionLevel: Int
    var trace: Bool
    /// New instances are tracked; false once detached (deaths of instances
    /// tracked earlier are still observed).
    var tracksNewInstances: Bool

    var hookFlags: UInt32 {
        var flags = HM_CLASS_DEATHS.rawValue
        if tracksNewInstances { flags |= HM_CLASS_TRACKED.rawValue | (trace ? HM_CLASS_TRACED.rawValue : 0) }
        return flags
    }
}

/// Settings of one tracked object that differ from its class's.
struct ObjectSettings {
    var name: String?
    var resolutionLevel: Int?
}

/// Everything the tracker holds, behind its lock.
struct TrackerState: ~Copyable {
    var records = TrackedRecords()
    var settings: [Int: ObjectSettings] = [:]
    var registrations: [ClassKey: ClassRegistration] = [:]
    var snapshots: [Snapshot] = []
    var shortLived: [UInt32: (count: Int, lifetime: UInt64)] = [:]

    // Classes met in events, by index.
    private(set) var classMetadata: [UnsafeRawPointer] = []
    private var classNames: [String?] = []
    private var classIndex: [UInt: UInt32] = [:]
    private var classLevels: [UInt32: Int] = [:]

    // Instantiation traces, interned.
    private(set) var traces: [InstantiationTrace] = []
    private var traceIndex: [[UInt]: UInt32] = [:]

    /// Events read from the hooks but too recent to apply (see `drain`).
    private var heldBack: [Event] = []
    private let buffer = UnsafeMutablePointer<hm_event>.allocate(capacity: TrackerState.bufferCapacity)
    private static let bufferCapacity = 1 << 15

    init() {}

    deinit { buffer.deallocate() }

    /// An allocation or deallocation, with its trace interned.
    struct Event {
        var time: UInt64
        var address: UInt
        var metadata: UInt
        /// 0: a death; else a birth with trace index + 1 in `trace - 1`, or no trace when 1.
        var birthTrace: UInt32
    }

    // MARK: Events

    /// Applies the hooks' pending events in time order. With `holdBack`
    /// ticks, events that recent wait for the next drain: another thread may
    /// have taken an earlier timestamp and not published its event yet. At a
    /// safe point (a snapshot) nothing is held back.
    mutating func drain(holdBack: UInt64 = 0) {
        var events = heldBack
        heldBack = []
        while true {
            let count = hm_drain_events(buffer, Self.bufferCapacity)
            if count == 0 { break }
            var index = 0
            while index < count {
                let event = buffer[index]
                if event.kind == HM_EVENT_ALLOC.rawValue {
                    let traceCount = Int(event.extra)
                    let trace = traceCount > 0 ? intern(traceFrom: buffer + index + 1, count: traceCount) : 0
                    events.append(Event(time: event.time, address: UInt(event.address), metadata: UInt(event.metadata),
                                        birthTrace: trace + 1))
                    index += 1 + traceCount
                } else {
                    events.append(Event(time: event.time, address: UInt(event.address), metadata: UInt(event.metadata),
                                        birthTrace: 0))
                    index += 1
                }
            }
        }
        guard !events.isEmpty else { return }
        // Each thread's events are in order already: the sort merges runs.
        events.sort { $0.time < $1.time }
        var applied = events.count
        if holdBack > 0 {
            let cutoff = MonitorClock.now &- holdBack
            applied = events.firstIndex { $0.time > cutoff } ?? events.count
            heldBack = Array(events[applied...])
        }
        for event in events[..<applied] { apply(event) }
    }

    private mutating func apply(_ event: Event) {
        if event.birthTrace > 0 {
            records.append(address: event.address, birth: event.time, classIndex: index(ofClass: event.metadata),
                           trace: event.birthTrace - 1)
            return
        }
        if case .dropped(let classIndex, let lifetime) = records.recordDeath(address: event.address, time: event.time) {
            shortLived[classIndex, default: (0, 0)].count += 1
            shortLived[classIndex, default: (0, 0)].lifetime += lifetime
        }
    }

    private mutating func intern(traceFrom events: UnsafePointer<hm_event>, count: Int) -> UInt32 {
        var frames: [UInt] = []
        frames.reserveCapacity(count * 3)
        for index in 0..<count {
            let event = events[index]
            frames.append(contentsOf: [event.time, event.address, event.metadata].prefix(Int(event.extra)).map { UInt($0) })
        }
        if let known = traceIndex[frames] { return known }
        traces.append(InstantiationTrace(addresses: frames))
        traceIndex[frames] = UInt32(traces.count)
        return UInt32(traces.count)
    }

    // MARK: Classes

    mutating func index(ofClass metadata: UInt) -> UInt32 {
        if let known = classIndex[metadata] { return known }
        let index = UInt32(classMetadata.count)
        classMetadata.append(UnsafeRawPointer(bitPattern: metadata)!)
        classNames.append(nil)
        classIndex[metadata] = index
        return index
    }

    mutating func className(_ index: UInt32) -> String {
        if let name = classNames[Int(index)] { return name }
        let name = Metadata(classMetadata[Int(index)]).name
        classNames[Int(index)] = name
        return name
    }

    /// The resolution level of the most specialised tracked class in the
    /// class's ancestry (seed: Inheritance), 0 when none.
    mutating func resolutionLevel(ofClass index: UInt32) -> Int {
        if let level = classLevels[index] { return level }
        var level = 0
        var current: Metadata? = Metadata(classMetadata[Int(index)])
        while let metadata = current, metadata.kind == .class {
            let byDescriptor = metadata.descriptor.map { ClassKey(pointer: UInt(bitPattern: $0.pointer), byDescriptor: true) }
            if let registration = registrations[ClassKey(metadata: metadata.pointer)] ?? byDescriptor.flatMap({ registrations[$0] }),
               registration.tracksNewInstances {
                level = registration.resolutionLevel
                break
            }
            current = metadata.superclass
        }
        classLevels[index] = level
        return level
    }

    /// Sets a class's registration, in the hooks too.
    mutating func register(_ key: ClassKey, _ registration: ClassRegistration?) throws {
        try AllocationHooks.register(key, flags: registration?.hookFlags ?? 0)
        registrations[key] = registration
        classLevels = [:]
    }

    // MARK: Reading

    /// The record's level: its own setting, else its class's.
    mutating func resolutionLevel(ofRecord record: Int) -> Int {
        settings[record]?.resolutionLevel ?? resolutionLevel(ofClass: records.classes[record])
    }

    mutating func trackedObject(_ record: Int) -> TrackedObject {
        let death = records.deaths[record]
        let trace = records.traces[record]
        return TrackedObject(id: record, className: className(records.classes[record]), name: settings[record]?.name,
                             address: records.addresses[record], birth: MonitorClock.seconds(records.births[record]),
                             death: death == 0 ? nil : MonitorClock.seconds(death),
                             resolutionLevel: resolutionLevel(ofRecord: record),
                             trace: trace == 0 ? nil : traces[Int(trace - 1)])
    }

    /// Bytes the monitor holds: the hooks' logs and tables, the records, and
    /// an estimate for snapshots.
    var monitorBytes: Int {
        let snapshotBytes = snapshots.reduce(0) { $0 + 64 + $1.objects.capacity * MemoryLayout<Snapshot.ObjectSize>.stride }
        return Int(hm_hooks_overhead_bytes()) + records.heldBytes + Self.bufferCapacity * MemoryLayout<hm_event>.stride
            + snapshotBytes + traces.count * 64
    }

    /// Forgets every object, snapshot and registration.
    mutating func removeAll() {
        hm_clear_classes()
        records.removeAll()
        settings = [:]
        registrations = [:]
        snapshots = []
        shortLived = [:]
        classLevels = [:]
        heldBack = []
    }
}
