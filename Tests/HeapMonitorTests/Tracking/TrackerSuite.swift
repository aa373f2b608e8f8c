@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The tracker and its hooks are process-wide: every test that uses them runs
/// inside this suite, one at a time, on a cleared tracker.
@Suite(.serialized) enum TrackerSuite {}

/// A cleared shared tracker.
func freshTracker() -> Tracker {
    let tracker = Tracker.shared
    tracker.clear()
    return tracker
}

/// Objects counted short-lived (born and ended within one drain) of the
/// classes whose names end in `name`.
func shortLived(_ tracker: Tracker, _ name: String) -> Int {
    tracker.shortLivedObjects.filter { $0.className.hasSuffix(name) }.reduce(0) { $0 + $1.count }
}

/// Makes `value` escape, so that release builds allocate it on the heap
/// rather than promote it to the stack: the optimiser computes no effects for
/// an unoptimised function, so it must assume the worst.
@_optimize(none) func keep<T>(_ value: T) -> T { value }

/// Runs `body` on a thread of its own (so with a log of its own) and waits
/// for the thread to end.
func onNewThread(_ body: @escaping () -> Void) {
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let made = pthread_create(&thread, nil, { argument in
        Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
        return nil
    }, box)
    precondition(made == 0)
    pthread_join(thread, nil)
}

/// Fails with one of its two fields set: freed as a partial instance.
final class HalfMade {
    let head: [Int]
    let tail: [Int]
    init?(fail: Bool) {
        head = [1, 2, 3]
        if fail { return nil }
        tail = [4]
    }
}
