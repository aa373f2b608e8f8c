import Dispatch

extension Tracker {
    /// Takes a snapshot every `interval` in the background until
    /// `stopPeriodicSnapshots()`, replacing periodic snapshots started before.
    ///
    /// By default a periodic snapshot records the process's memory, the live
    /// tracked objects' count and the census, and sizes nothing. With
    /// `sizingObjects: true` it also sizes every tracked object, where the
    /// tracker's `isolation` says: in a forked child by default, which is
    /// safe while other threads change and free them; a sized snapshot whose
    /// child fails is skipped.
    ///
    /// - Parameters:
    ///   - interval: Time between snapshots (at least 1 ms).
    ///   - description: Each snapshot's description.
    ///   - sizingObjects: Size the tracked objects too (see above).
    public func startPeriodicSnapshots(
        every interval: Duration, description: String = "periodic",
        sizingObjects: Bool = false
    ) {
        let nanoseconds = max(1_000_000, Int(interval.nanoseconds))
        let timer = DispatchSource.makeTimerSource(queue: snapshotQueue)
        timer.schedule(
            deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds),
            leeway: .nanoseconds(nanoseconds / 10))
        timer.setEventHandler { [unowned self] in
            _ = try? recordSnapshot(named: description, sizingObjects: sizingObjects, isBackground: true)
        }
        timer.resume()
        setSnapshotTimer(timer)
    }

    /// Stops the periodic snapshots; one under way completes first.
    public func stopPeriodicSnapshots() {
        setSnapshotTimer(nil)
        snapshotQueue.sync {}
    }
}
