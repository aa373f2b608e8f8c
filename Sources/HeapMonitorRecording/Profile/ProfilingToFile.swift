import HeapMonitorModel

extension Tracker {
    /// Streams what the tracker records to a profile file at `path` (created
    /// or truncated): classes, traces, tracked objects with their births and
    /// deaths, and every snapshot from now on, each handed to the kernel
    /// before the snapshot returns. Replaces a profile started before.
    ///
    /// Load it with `Profile.load(from:)` or `MemStats`, or the
    /// `heapmonitor stats` command; `HTMLReport` renders it as a page.
    ///
    /// ```swift
    /// try tracker.startProfile(at: "heap.hmprof")
    /// try tracker.takeSnapshot(named: "warm")
    /// try tracker.stopProfile()
    /// ```
    public func startProfile(at path: String) throws(ProfileError) {
        var writer: ProfileWriter? = try ProfileWriter(path: path)
        state.withLock { state in
            _ = state.finishProfile()
            state.drain()
            state.profile = writer.take()
        }
    }

    /// Ends the profile: an end record, and the file is closed. Throws the
    /// first write error, if writing failed on the way (the program went on:
    /// the file holds what was written before).
    public func stopProfile() throws(ProfileError) {
        if let failure = state.withLock({ $0.finishProfile() }) { throw failure }
    }
}
