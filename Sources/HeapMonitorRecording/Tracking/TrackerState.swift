import CHeapMonitor
import HeapMonitorModel

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
    /// Class-name patterns, by their slot in the hooks' table.
    var patterns: [Int32: (text: String, registration: ClassRegistration)] = [:]
    var snapshots: [Snapshot] = []
    var snapshotLimit: Int?
    var shortLived: [UInt32: (count: Int, lifetime: UInt64)] = [:]
    /// The profile being written, if any.
    var profile: ProfileWriter?
    /// What the profile keeps of background snapshots.
    var backgroundThinner = BackgroundThinner()
    /// Live instances of classes watched for leak scans but not tracked:
    /// address → class index.
    var watched: [UInt: UInt32] = [:]
    private var watchedOnly: [UInt32: Bool] = [:]
    /// Classes of the monitor itself, never watched or tracked wholesale.
    private var monitorClasses: [UInt32: Bool] = [:]
    /// Every class is watched for leak scans.
    private(set) var watchesForLeaks = false
    /// Every class is tracked, at this level unless registered otherwise.
    private(set) var everyClassLevel: Int?
    /// Where analyses that read the heap run, and how the last forked one went.
    var isolation = AnalysisIsolation.forked
    var lastIsolatedAnalysis: IsolatedAnalysis?
    /// The census's instances from before its tables counted, once walked.
    var censusSeed: CensusSeed?
    /// Whether a control request started the census (which then ends when
    /// idle), and when the last census was asked for (`hm_clock_ns`).
    var censusStartedOnRequest = false
    var lastCensusRequest: UInt64 = 0
    /// Layouts of the classes met so far, kept across analyses; the first
    /// `warmedClasses` classes have theirs.
    var layouts = LayoutBuilder()
    var warmedClasses = 0

    // Classes met in events, by index.
    private(set) var classMetadata: [UnsafeRawPointer] = []
    private var classNames: [String?] = []
    private var classIndex: [UInt: UInt32] = [:]
    private var classLevels: [UInt32: Int] = [:]

    // Instantiation traces, interned by a hash of their frames.
    private(set) var traces: [InstantiationTrace] = []
    private var traceIndex: [Int: [UInt32]] = [:]

    init() {}

    // MARK: Events

    /// Applies the hooks' pending events. With `holdBack` nanoseconds, events
    /// that recent on the event clock wait for the next drain: another thread
    /// may have taken an earlier timestamp and not published its event yet. At a safe point (a
    /// snapshot) nothing is held back.
    mutating func drain(holdBack: UInt64 = 0) {
        let cutoff = holdBack > 0 ? hm_event_clock_now() &- holdBack : UInt64.max
        var buffer: UnsafePointer<hm_event>?
        let count = withUnsafeMutablePointer(to: &self) { state in
            hm_drain(cutoff, &buffer, { address, state in
                let state = state!.assumingMemoryBound(to: TrackerState.self)
                return state.pointee.holdsLiveObject(at: UInt(address)) ? 1 : 0
            }, state)
        }
        var index = 0
        while index < count, let event = buffer?[index] {
            if event.kind == HM_EVENT_ALLOC.rawValue {
                let traceCount = Int(event.extra)
                let trace = traceCount > 0 ? intern(traceFrom: buffer! + index + 1, count: traceCount) : 0
                let classIndex = self.index(ofClass: UInt(event.metadata))
                if isMonitorClassSeenWholesale(classIndex) {
                    // The monitor's own objects (layouts, maps) are not the host's.
                } else if isWatchedOnly(classIndex) {
                    watched[UInt(event.address)] = classIndex
                } else if let ended = records.append(
                    address: UInt(event.address), birth: event.time,
                    classIndex: classIndex, trace: trace)
                {
                    applyDeath(ended)
                }
                index += 1 + traceCount
            } else {
                if watched.removeValue(forKey: UInt(event.address)) == nil {
                    recordDeath(address: UInt(event.address), time: event.time)
                }
                index += 1
            }
        }
        hm_drain_release()
        var rows = [hm_short_lived](repeating: hm_short_lived(), count: 256)
        while true {
            let found = hm_drain_short_lived(&rows, rows.count)
            for row in rows[..<found] {
                countShortLived(
                    self.index(ofClass: UInt(bitPattern: row.metadata)), count: Int(row.count), lifetime: row.lifetime)
            }
            if found < rows.count { break }
        }
    }

    /// Whether a record or a watched instance lives at `address`.
    func holdsLiveObject(at address: UInt) -> Bool {
        records.liveRecord(at: address) != nil || watched[address] != nil
    }

    private mutating func recordDeath(address: UInt, time: UInt64) {
        applyDeath(records.recordDeath(address: address, time: time))
    }

    private mutating func applyDeath(_ death: TrackedRecords.Death) {
        switch death {
        case .dropped(let classIndex, let lifetime): countShortLived(classIndex, count: 1, lifetime: lifetime)
        case .recorded(let record): noteDeath(of: record)
        case .unknown: break
        }
    }

    /// A profile that holds the record alive must learn of its death.
    private mutating func noteDeath(of record: Int) {
        guard var writer = profile.take() else { return }
        if record < writer.writtenRecords { writer.pendingDeaths.append(record) }
        profile = consume writer
    }

    private mutating func countShortLived(_ classIndex: UInt32, count: Int, lifetime: UInt64) {
        shortLived[classIndex, default: (0, 0)].count += count
        shortLived[classIndex, default: (0, 0)].lifetime += lifetime
    }

    /// The trace number (index + 1) of the frames in `count` trace events.
    private mutating func intern(traceFrom events: UnsafePointer<hm_event>, count: Int) -> UInt32 {
        func frames(_ body: (UInt) -> Void) {
            for index in 0..<count {
                let event = events[index]
                for word in 0..<Int(min(event.extra, 3)) {
                    body(UInt(word == 0 ? event.time : word == 1 ? event.address : event.metadata))
                }
            }
        }
        var hasher = Hasher()
        var length = 0
        frames {
            hasher.combine($0); length += 1
        }
        let key = hasher.finalize()
        for candidate in traceIndex[key] ?? [] {
            let known = traces[Int(candidate - 1)].addresses
            var position = 0, same = known.count == length
            if same {
                frames {
                    same = same && known[position] == $0; position += 1
                }
            }
            if same { return candidate }
        }
        var addresses: [UInt] = []
        addresses.reserveCapacity(length)
        frames { addresses.append($0) }
        traces.append(InstantiationTrace(addresses: addresses))
        traceIndex[key, default: []].append(UInt32(traces.count))
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
    /// class's ancestry, 0 when none (without one of its own, the
    /// every-class level).
    mutating func resolutionLevel(ofClass index: UInt32) -> Int {
        if let level = classLevels[index] { return level }
        var level = everyClassLevel ?? 0
        for metadata in Metadata(classMetadata[Int(index)]).ancestry {
            let byDescriptor = metadata.descriptor.map {
                ClassKey(pointer: UInt(bitPattern: $0.pointer), byDescriptor: true)
            }
            if let registration = registrations[ClassKey(metadata: metadata.pointer)]
                ?? byDescriptor.flatMap({ registrations[$0] })
                ?? patterns[hm_pattern_matching(metadata.pointer)]?.registration,
                registration.tracksNewInstances
            {
                level = registration.resolutionLevel
                break
            }
        }
        classLevels[index] = level
        return level
    }

    /// Sets a class's registration, in the hooks too.
    mutating func register(_ key: ClassKey, _ registration: ClassRegistration?) throws(HookError) {
        try AllocationHooks.register(key, flags: registration?.hookFlags ?? 0)
        registrations[key] = registration
        classLevels = [:]
        watchedOnly = [:]
    }

    /// Sets a class-name pattern's registration, in the hooks too.
    mutating func register(pattern: String, _ registration: ClassRegistration) throws(HookError) {
        let slot = hm_register_pattern(pattern, registration.hookFlags)
        guard slot >= 0 else { throw HookError.tooManyPatterns }
        patterns[slot] = (pattern, registration)
        classLevels = [:]
        watchedOnly = [:]
    }

    /// Watches every class outside the standard library for leak scans, or
    /// stops.
    mutating func watchForLeaks(_ on: Bool) {
        watchesForLeaks = on
        if !on { watched = [:] }
        updateWatching()
    }

    /// Tracks every class outside the standard library at `level`, or stops
    /// (nil).
    mutating func trackEveryClass(level: Int?) {
        everyClassLevel = level
        updateWatching()
    }

    /// The hooks see every class while either wholesale mode is on.
    private mutating func updateWatching() {
        hm_watch_all(watchesForLeaks || everyClassLevel != nil ? 1 : 0)
        watchedOnly = [:]
        classLevels = [:]
    }

    /// Whether the class's instances are recorded only because every class
    /// is watched for leaks (they go to `watched`, not to the tracked records).
    mutating func isWatchedOnly(_ classIndex: UInt32) -> Bool {
        if let known = watchedOnly[classIndex] { return known }
        let answer =
            everyClassLevel == nil
            && hm_class_flags(classMetadata[Int(classIndex)]) & HM_CLASS_WATCHED.rawValue != 0
        watchedOnly[classIndex] = answer
        return answer
    }

    /// Whether the class is the monitor's own and its instances are seen only
    /// because every class is (a class the program tracks by name is kept).
    private mutating func isMonitorClassSeenWholesale(_ classIndex: UInt32) -> Bool {
        if let known = monitorClasses[classIndex] { return known }
        let answer =
            hm_class_flags(classMetadata[Int(classIndex)]) & HM_CLASS_WATCHED.rawValue != 0
            && MonitorClasses.contains(className(classIndex))
        monitorClasses[classIndex] = answer
        return answer
    }

    // MARK: Reading

    /// The record's level: its own setting, else its class's.
    mutating func resolutionLevel(ofRecord record: Int) -> Int {
        settings[record]?.resolutionLevel ?? resolutionLevel(ofClass: records.classes[record])
    }

    mutating func trackedObject(_ record: Int) -> TrackedObject {
        let death = records.deaths[record]
        let trace = records.traces[record]
        return TrackedObject(
            id: record, className: className(records.classes[record]), name: settings[record]?.name,
            address: records.addresses[record], birth: MonitorClock.time(records.births[record]),
            death: death == 0 ? nil : MonitorClock.time(death),
            resolutionLevel: resolutionLevel(ofRecord: record),
            trace: trace == 0 ? nil : traces[Int(trace - 1)])
    }

    /// Bytes the monitor holds: the hooks' logs and tables, the records, and
    /// an estimate for snapshots.
    var monitorBytes: Int {
        let snapshotBytes = snapshots.reduce(0) {
            $0 + 64 + $1.objectIDs.capacity * 4 + ($1.sizes.capacity + $1.flatSizes.capacity) * 8
        }
        return Int(hm_hooks_overhead_bytes()) + records.heldBytes + snapshotBytes + traces.count * 64
    }

    /// Forgets every object, snapshot and registration; the snapshot limit,
    /// the background thinning and the isolation return to their defaults.
    mutating func removeAll() {
        _ = finishProfile()
        watchForLeaks(false)
        trackEveryClass(level: nil)
        hm_clear_classes()
        records.removeAll()
        settings = [:]
        registrations = [:]
        patterns = [:]
        snapshots = []
        snapshotLimit = nil
        backgroundThinner = BackgroundThinner()
        shortLived = [:]
        classLevels = [:]
        isolation = .forked
        lastIsolatedAnalysis = nil
        censusSeed = nil
        censusStartedOnRequest = false
    }
}
