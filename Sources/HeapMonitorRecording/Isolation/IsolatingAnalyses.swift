import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// Where snapshots that size objects and leak scans run: `.forked` (the
    /// default) in a child process that cannot harm this one, or
    /// `.inProcess`. See `AnalysisIsolation`.
    public var isolation: AnalysisIsolation {
        get { state.withLock { $0.isolation } }
        set { state.withLock { $0.isolation = newValue } }
    }

    /// How the last analysis in a forked child went (nil before the first).
    public var lastIsolatedAnalysis: IsolatedAnalysis? { state.withLock { $0.lastIsolatedAnalysis } }
}

extension TrackerState {
    /// The objects a leak scan or a heap graph starts from, once the hooks'
    /// events are in: the watched ones and the live tracked ones.
    mutating func analysisCandidates() -> [UInt] {
        drain()
        var candidates = Array(watched.keys)
        for record in records.liveRecords { candidates.append(records.addresses[record]) }
        return candidates
    }

    /// Builds, here, the layouts of every class met in the hooks' events,
    /// so that the child asks the runtime for as little as possible: a
    /// runtime lock held by another thread at the instant of the fork stays
    /// held in the child. The metadata comes from the allocation hooks: real
    /// classes. After the first analysis this is a dictionary lookup a class.
    mutating func warmLayouts() {
        var engine = SizingEngine(layouts: layouts)
        for index in UInt32(warmedClasses)..<UInt32(classMetadata.count) {
            let metadata = Metadata(classMetadata[Int(index)])
            let layout = engine.objectLayout(metadata)
            _ = className(index)
            // The names a referent tree shows first: the class's and its fields'.
            _ = engine.displayName(of: layout)
            for field in layout.fields { _ = engine.typeName(field.type) }
        }
        layouts = engine.layouts
        warmedClasses = classMetadata.count
        KnownTypes.load()  // their static initialisers run here, not in a child
    }

    /// Makes, here, the layouts and names a child deferred.
    mutating func makeDeferred(_ lookups: [DeferredLookup]) {
        // Checks against memory as it is now, as an engine's would start.
        layouts.startAnalysis(memory: nil)
        for lookup in lookups { layouts.make(lookup) }
    }

    /// Children an analysis may fork: each one after the first is asked
    /// only when the one before it deferred lookups not made before.
    static let maximumForks = 4
    /// Children killed while blocked on a lock that one analysis replaces.
    static let maximumBlockedForks = 3

    /// `compute`'s result, computed where `isolation` says: here, or in a
    /// forked child (see `IsolatedRun`) that sends it back with `encode` for
    /// `decode` to read, keeping how the run went. The caller holds the
    /// tracker's lock across the fork, so no other thread of the tracker is
    /// inside the state the child copies.
    ///
    /// A child defers the runtime calls it needs (`RuntimeLookups`); they are
    /// made here, and a new child computes again with them, until one defers
    /// nothing new or `maximumForks` have run. A later child that fails or
    /// runs out of time leaves the result of the one before. A child blocked
    /// on a lock held at its fork (`AnalysisError.childBlocked`) is replaced
    /// by a new one, `maximumBlockedForks` times at most.
    mutating func analyse<Value>(
        isolation: AnalysisIsolation, _ compute: (inout TrackerState) -> Value,
        encode: (inout ByteEncoder, Value) -> Void,
        decode: (inout ByteDecoder) throws(ProfileError.Problem) -> Value
    )
        throws(AnalysisError) -> Value
    {
        guard let timeout = isolation.timeout else { return compute(&self) }
        let start = hm_clock_ns()
        let deadline = start + UInt64(timeout.nanoseconds)
        var blocked = 0
        func child(_ state: inout TrackerState) throws(AnalysisError) -> (Value, IsolatedRun.Outcome) {
            while true {
                do throws(AnalysisError) {
                    let outcome = try IsolatedRun.run(timeout: timeout, deadline: deadline) {
                        var encoder = ByteEncoder()
                        encode(&encoder, compute(&state))
                        return encoder.bytes
                    }
                    return (try IsolatedRun.decode(outcome.bytes, decode), outcome)
                } catch .childBlocked where blocked < Self.maximumBlockedForks {
                    // The lock was held at that fork's instant; another
                    // instant finds it free.
                    blocked += 1
                }
            }
        }
        warmLayouts()
        var (value, outcome) = try child(&self)
        var run = outcome.run
        var made = Set(outcome.deferred)
        var new = outcome.deferred
        while !new.isEmpty, run.forks < Self.maximumForks {
            makeDeferred(new)
            guard let next = try? child(&self) else { break }
            (value, outcome) = next
            run.pause += outcome.run.pause
            run.resultBytes = outcome.run.resultBytes
            run.deferredLookups = outcome.run.deferredLookups
            run.forks += 1
            new = outcome.deferred.filter { made.insert($0).inserted }
        }
        run.forks += blocked
        run.latency = .nanoseconds(Int64(hm_clock_ns() - start))
        lastIsolatedAnalysis = run
        return value
    }
}