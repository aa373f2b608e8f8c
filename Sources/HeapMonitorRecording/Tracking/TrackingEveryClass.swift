extension Tracker {
    /// Tracks every instance of every class outside the standard library
    /// allocated from now on until `clear()`, as `track(class:)` does one
    /// class (their deaths are observed only while it lasts): snapshots
    /// then size every live object, each without the others, and leak scans
    /// see them all. Classes tracked with settings of their own keep them;
    /// the rest are sized at `resolutionLevel`. The monitor's own objects
    /// are left out.
    ///
    /// Meant for debugging runs and corpora: it costs what tracking a class
    /// costs for every class, and a record (about 40 bytes) for every object
    /// that outlives one read of the tracker.
    ///
    /// ```swift
    /// try Tracker.shared.trackEveryClass()
    /// // … serve some requests …
    /// let snapshot = try Tracker.shared.takeSnapshot(named: "everything")
    /// ```
    public func trackEveryClass(resolutionLevel: Int = 0) throws(HookError) {
        try AllocationHooks.install()
        state.withLock { state in
            state.drain()
            state.trackEveryClass(level: max(0, resolutionLevel))
        }
        startDraining()
    }

    /// Whether every class is being tracked (`trackEveryClass`).
    public var tracksEveryClass: Bool { state.withLock { $0.everyClassLevel != nil } }
}
