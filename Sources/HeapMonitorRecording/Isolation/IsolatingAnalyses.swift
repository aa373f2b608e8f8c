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
        _ = KnownTypes.string  // its static initialisers run here, not in a child
    }

    /// `compute`'s result, computed where `isolation` says: here, or in a
    /// forked child (see `IsolatedRun`) that sends it back with `encode` for
    /// `decode` to read, keeping how the run went. The caller holds the
    /// tracker's lock across the fork, so no other thread of the tracker is
    /// inside the state the child copies.
    mutating func analyse<Value>(
        isolation: AnalysisIsolation, _ compute: (inout TrackerState) -> Value,
        encode: (inout ByteEncoder, Value) -> Void,
        decode: (inout ByteDecoder) throws(ProfileError.Problem) -> Value
    )
        throws(AnalysisError) -> Value
    {
        guard let timeout = isolation.timeout else { return compute(&self) }
        warmLayouts()
        let (bytes, run) = try IsolatedRun.run(timeout: timeout) {
            var encoder = ByteEncoder()
            encode(&encoder, compute(&self))
            return encoder.bytes
        }
        lastIsolatedAnalysis = run
        return try IsolatedRun.decode(bytes, decode)
    }
}
