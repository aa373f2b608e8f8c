import CHeapMonitor
import Dispatch
import HeapMonitorModel

/// Follows objects and classes through their lives and sizes them in
/// snapshots, with no change to the classes watched.
///
/// Births and deaths come from the allocation hooks (GOT patches of the
/// runtime's allocation entry points), so they are exact and need no weak
/// references. Sizes are taken only by snapshots.
///
/// ```swift
/// let tracker = Tracker.shared
/// try tracker.track(class: Node.self, resolutionLevel: 1, trace: true)
/// try tracker.track(cache, name: "cache")
/// tracker.takeSnapshot(named: "after load")
/// ```
///
/// The hooks are process-wide, so there is one tracker: `Tracker.shared`.
public final class Tracker: Sendable {
    /// The process's tracker.
    public static let shared = Tracker()

    let state = Locked(TrackerState())
    private let background = Locked(BackgroundWork())
    private let queue = DispatchQueue(label: "HeapMonitor.Tracker", qos: .utility)

    private init() { MonitorClock.start() }

    // MARK: Tracking

    /// Tracks one object: its lifetime from now on, and its size in every
    /// snapshot while it lives. Tracking an object tracked already updates
    /// its name and level.
    ///
    /// - Parameters:
    ///   - object: The object; it is not retained.
    ///   - name: A name for reports.
    ///   - resolutionLevel: How deep snapshots size its referents (0: its total only).
    public func track(_ object: AnyObject, name: String? = nil, resolutionLevel: Int? = nil) throws(HookError) {
        try AllocationHooks.install()
        let address = UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())
        let metadata = UnsafeRawPointer(bitPattern: address)!.load(as: UnsafeRawPointer.self)
        try AllocationHooks.checkObservable(metadata)
        try state.withLock { (state) throws(HookError) in
            state.drain()
            let key = ClassKey(metadata: metadata)
            if state.registrations[key] == nil {
                try state.register(key, ClassRegistration(resolutionLevel: 0, trace: false, tracksNewInstances: false))
            }
            state.records.stabilise()
            var record = state.records.liveRecord(at: address)
            if record == nil {
                state.records.append(
                    address: address, birth: MonitorClock.now,
                    classIndex: state.index(ofClass: UInt(bitPattern: metadata)),
                    trace: 0)
                state.records.stabilise()
                record = state.records.count - 1
            }
            var settings = state.settings[record!] ?? ObjectSettings()
            if let name { settings.name = name }
            if let resolutionLevel { settings.resolutionLevel = max(0, resolutionLevel) }
            state.settings[record!] = settings
        }
        startDraining()
    }

    /// Tracks every instance of `type` created from now on, instances of its
    /// subclasses included. Where tracked classes are related, the most
    /// specialised tracked class's settings apply to an instance.
    ///
    /// - Parameters:
    ///   - type: The class; standard-library classes are refused.
    ///   - resolutionLevel: How deep snapshots size the instances' referents.
    ///   - trace: Record the call stack that allocates each instance.
    ///   - allSpecializations: For a generic class, track every
    ///     specialisation (`Box<Int>`, `Box<String>`, …), not only `type`.
    public func track(
        class type: AnyClass, resolutionLevel: Int = 0, trace: Bool = false,
        allSpecializations: Bool = false
    ) throws(HookError) {
        try AllocationHooks.install()
        try AllocationHooks.checkObservable(Metadata(type).pointer)
        try state.withLock { (state) throws(HookError) in
            state.drain()
            try state.register(
                ClassKey(type, allSpecializations: allSpecializations),
                ClassRegistration(resolutionLevel: max(0, resolutionLevel), trace: trace, tracksNewInstances: true))
        }
        startDraining()
    }

    /// Tracks every class whose qualified name (`Module.Outer.Type`, without
    /// generic arguments) matches `pattern`, as `track(class:)` does — also
    /// classes not loaded yet. `*` matches any run of characters, `?` one;
    /// matching is case-sensitive. Standard-library classes never match.
    ///
    /// ```swift
    /// try tracker.track(classesMatching: "MyServer.*", trace: true)
    /// try tracker.track(classesMatching: "NIOCore.ByteBuffer.*")
    /// ```
    public func track(classesMatching pattern: String, resolutionLevel: Int = 0, trace: Bool = false)
        throws(HookError)
    {
        try AllocationHooks.install()
        try state.withLock { (state) throws(HookError) in
            state.drain()
            try state.register(
                pattern: pattern,
                ClassRegistration(resolutionLevel: max(0, resolutionLevel), trace: trace, tracksNewInstances: true))
        }
        startDraining()
    }

    /// Tracks the class named `className` (`Module.Type`, or nested:
    /// `Module.Outer.Type`) like `track(class:)` — also a class the program
    /// cannot name in code, such as an internal class of a package it
    /// depends on (`NIOCore.ByteBuffer._Storage`).
    public func track(className: String, resolutionLevel: Int = 0, trace: Bool = false) throws(HookError) {
        guard let type = Self.loadedClass(named: className) else { throw HookError.unknownClass(className) }
        try track(class: type, resolutionLevel: resolutionLevel, trace: trace)
    }

    /// The class `Module.Type` or, nested in other types, `Module.Outer.Type`
    /// (as SwiftNIO's `NIOCore.ByteBuffer._Storage`). The runtime looks up
    /// only top-level names by text; nested ones are looked up by mangled
    /// name, trying each kind of enclosing type (struct, class, enum).
    static func loadedClass(named name: String) -> AnyClass? {
        if let type = _typeByName(name) as? AnyClass { return type }
        let parts = name.split(separator: ".").map(String.init)
        guard parts.count > 2, parts.count <= 6, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 < 0x80 } })
        else { return nil }
        func mangled(_ part: String) -> String { "\(part.utf8.count)\(part)" }
        var prefixes = [mangled(parts[0])]
        for part in parts.dropFirst().dropLast() {
            prefixes = prefixes.flatMap { prefix in ["V", "C", "O"].map { prefix + mangled(part) + $0 } }
        }
        for prefix in prefixes {
            if let type = _typeByName(prefix + mangled(parts[parts.count - 1]) + "C") as? AnyClass { return type }
        }
        return nil
    }

    /// Changes a tracked object's resolution level, from the next snapshot on.
    /// Returns false when the object is not tracked.
    ///
    /// ```swift
    /// tracker.setResolutionLevel(2, for: cache)   // its referents' referents too
    /// ```
    @discardableResult
    public func setResolutionLevel(_ resolutionLevel: Int, for object: AnyObject) -> Bool {
        let address = UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())
        return state.withLock { state in
            state.drain()
            state.records.stabilise()
            guard let record = state.records.liveRecord(at: address) else { return false }
            state.settings[record, default: ObjectSettings()].resolutionLevel = max(0, resolutionLevel)
            return true
        }
    }

    /// Stops tracking new instances of `type`; instances tracked already stay
    /// tracked until they die.
    ///
    /// ```swift
    /// tracker.stopTracking(class: Node.self)
    /// ```
    public func stopTracking(class type: AnyClass) {
        state.withLock { state in
            state.drain()
            for key in [ClassKey(type, allSpecializations: false), ClassKey(type, allSpecializations: true)] {
                guard var registration = state.registrations[key] else { continue }
                registration.tracksNewInstances = false
                try? state.register(key, registration)
            }
        }
    }

    /// Stops tracking new instances of the classes `pattern` matched (the
    /// same text as given to `track(classesMatching:)`); instances tracked
    /// already stay tracked until they die.
    public func stopTracking(classesMatching pattern: String) {
        state.withLock { state in
            state.drain()
            guard var registration = state.patterns.values.first(where: { $0.text == pattern })?.registration
            else { return }
            registration.tracksNewInstances = false
            try? state.register(pattern: pattern, registration)
        }
    }

    /// Stops tracking new instances of every class (as `stopTracking(class:)`
    /// for each).
    public func stopTrackingAllClasses() {
        state.withLock { state in
            state.drain()
            for (key, var registration) in state.registrations where registration.tracksNewInstances {
                registration.tracksNewInstances = false
                try? state.register(key, registration)
            }
            for (text, var registration) in state.patterns.values where registration.tracksNewInstances {
                registration.tracksNewInstances = false
                try? state.register(pattern: text, registration)
            }
        }
    }

    /// Forgets every tracked object, class and snapshot; the snapshot limit
    /// and the isolation return to their defaults.
    public func clear() {
        stopPeriodicSnapshots()
        state.withLock { state in
            state.drain()
            state.removeAll()
        }
    }

    // MARK: Reading

    /// Every tracked object, alive or dead, in registration order.
    public var objects: [TrackedObject] {
        state.withLock { state in
            state.drain()
            state.records.stabilise()
            return (0..<state.records.count).map { state.trackedObject($0) }
        }
    }

    /// Tracked objects of the class named `className` (fully qualified, or
    /// its last component), in registration order.
    public func objects(ofClass className: String) -> [TrackedObject] {
        objects.filter { $0.className == className || $0.className.hasSuffix("." + className) }
    }

    /// Tracked objects alive now.
    public var liveObjectCount: Int {
        state.withLock { state in
            state.drain()
            return state.records.liveCount
        }
    }

    /// Instances of tracked classes that were born and freed between two reads
    /// of the tracker: counted, not kept.
    public var shortLivedObjects: [ShortLivedObjects] {
        state.withLock { state in
            state.drain()
            state.records.stabilise()
            let counts = state.shortLived
            return counts.filter { !state.isWatchedOnly($0.key) }.map { index, entry in
                ShortLivedObjects(
                    className: state.className(index), count: entry.count,
                    totalLifetime: MonitorClock.span(entry.lifetime))
            }.sorted { $0.className < $1.className }
        }
    }

    /// What the profile keeps of background snapshots in a long run: by
    /// default every one for an hour, then the peak of each second (see
    /// `BackgroundThinning`).
    public var backgroundThinning: BackgroundThinning {
        get { state.withLock { $0.backgroundThinner.policy } }
        set { state.withLock { $0.backgroundThinner.policy = newValue } }
    }

    /// The snapshots taken so far, oldest first (at most `snapshotLimit`).
    public var snapshots: [Snapshot] { state.withLock { $0.snapshots } }

    /// The most snapshots kept in memory, the oldest dropped first; nil keeps
    /// them all. A profile file gets every snapshot whatever the limit, so a
    /// long-running program that streams one can keep memory flat.
    public var snapshotLimit: Int? {
        get { state.withLock { $0.snapshotLimit } }
        set { state.withLock { $0.snapshotLimit = newValue.map { max(0, $0) } } }
    }

    /// Objects the runtime placed on the stack instead of the heap
    /// (`swift_initStackObject`, release builds): they have no heap lifetime
    /// and are not tracked.
    public var stackPromotedObjects: Int { Int(hm_stack_objects()) }

    /// Events the hooks could not record for lack of memory (0 unless the
    /// process ran out): births and deaths the tracker missed.
    public var droppedEvents: Int { Int(hm_dropped_events()) }

    /// Bytes the monitor holds now: hook logs and tables, records, snapshots.
    public var monitorBytes: Int { state.withLock { $0.monitorBytes } }

    /// GOT entries the hooks patched (0 before anything is tracked).
    public var patchedEntries: Int { AllocationHooks.patchedEntries }

    /// Patches images loaded since tracking began (after `dlopen`).
    public func rescanImages() throws(HookError) { try AllocationHooks.install() }

    /// Installs the allocation hooks now (tracking installs them when needed).
    public func installHooks() throws(HookError) { try AllocationHooks.install() }

    /// Restores every patched GOT entry: allocations and deallocations are no
    /// longer seen, so tracked objects freed meanwhile are not known to be
    /// dead; call `clear()` first unless the hooks come back soon.
    public func uninstallHooks() {
        state.withLock { $0.drain() }
        AllocationHooks.uninstall()
    }

    /// Drops the snapshots taken so far (a long-running program's periodic
    /// snapshots would otherwise accumulate).
    public func discardSnapshots() {
        state.withLock { $0.snapshots = [] }
    }

    // MARK: Background work

    /// Timers are used from the tracker's queue and under `background`'s lock only.
    struct BackgroundWork: @unchecked Sendable {
        var drainTimer: DispatchSourceTimer?
        var snapshotTimer: DispatchSourceTimer?
    }

    /// Keeps the hooks' logs short while classes churn: events are applied
    /// every 20 ms on a utility queue. Recent events wait one round (see
    /// `TrackerState.drain(holdBack:)`).
    func startDraining() {
        background.withLock { work in
            guard work.drainTimer == nil else { return }
            let timer = DispatchSource.makeTimerSource(queue: queue)
            let holdBack: UInt64 = 5_000_000  // 5 ms
            timer.schedule(
                deadline: .now() + .milliseconds(20), repeating: .milliseconds(20), leeway: .milliseconds(10))
            timer.setEventHandler { [unowned self] in
                state.withLock { $0.drain(holdBack: holdBack) }
            }
            timer.resume()
            work.drainTimer = timer
        }
    }

    func setSnapshotTimer(_ timer: DispatchSourceTimer?) {
        nonisolated(unsafe) let timer = timer
        background.withLock { work in
            work.snapshotTimer?.cancel()
            work.snapshotTimer = timer
        }
    }

    var snapshotQueue: DispatchQueue { queue }
}
