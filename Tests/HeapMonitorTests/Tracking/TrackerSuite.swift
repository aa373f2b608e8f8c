@testable import HeapMonitor
import Testing

/// The tracker and its hooks are process-wide: every test that uses them runs
/// inside this suite, one at a time, on a cleared tracker.
@Suite(.serialized) enum TrackerSuite {}

/// A cleared shared tracker.
func freshTracker() -> Tracker {
    let tracker = Tracker.shared
    tracker.clear()
    return tracker
}

/// Keeps objects alive where the optimiser cannot see through.
@inline(never) func keep<T>(_ value: T) -> T { value }
