@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
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

/// Makes `value` escape, so that release builds allocate it on the heap
/// rather than promote it to the stack: the optimiser computes no effects for
/// an unoptimised function, so it must assume the worst.
@_optimize(none) func keep<T>(_ value: T) -> T { value }
