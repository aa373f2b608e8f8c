@testable import HeapMonitorRecording
import CHeapMonitor
import Testing

private final class Filtered { var x = 0 }
private final class Churned { var x = 0 }

extension TrackerSuite {
    @Suite("Class filter")
    struct ClassFilterTests {
        /// Every registry change empties the cache: an entry cached before
        /// any number of changes (once, a 12-bit generation in each entry
        /// came round after 4,095 of them) is never taken for a current one.
        @Test func anEntryCachedBeforeManyChangesMisses() throws {
            let tracker = freshTracker()
            let metadata = unsafeBitCast(Filtered.self as AnyClass, to: UnsafeRawPointer.self)
            let churned = unsafeBitCast(Churned.self as AnyClass, to: UnsafeRawPointer.self)
            try tracker.track(class: Filtered.self)
            let tracked = HM_CLASS_TRACKED.rawValue | HM_CLASS_DEATHS.rawValue
            #expect(hm_class_flags(metadata) == tracked)  // cached
            let before = hm_filter_generation()
            #expect(hm_register_class(metadata, 0, 0) == 0)  // untracked: one change
            for change in 1...5000 {
                #expect(hm_register_class(churned, 0, change % 2 == 1 ? HM_CLASS_DEATHS.rawValue : 0) == 0)
            }
            #expect(hm_filter_generation() &- before == 5001)
            #expect(hm_class_flags(metadata) == 0, "the stale entry was taken for a current one")
            tracker.clear()
        }
    }
}
