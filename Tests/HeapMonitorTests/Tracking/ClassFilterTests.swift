@testable import HeapMonitorRecording
import CHeapMonitor
import Testing

private final class Filtered { var x = 0 }
private final class Churned { var x = 0 }

extension TrackerSuite {
    @Suite("Class filter")
    struct ClassFilterTests {
        /// The cache's generation has 12 bits: after 4,095 registry changes
        /// it comes round, and an entry cached that many changes ago must
        /// not be taken for a current one.
        @Test func anEntryFromAWholeGenerationCycleAgoMisses() throws {
            let tracker = freshTracker()
            let metadata = unsafeBitCast(Filtered.self as AnyClass, to: UnsafeRawPointer.self)
            let churned = unsafeBitCast(Churned.self as AnyClass, to: UnsafeRawPointer.self)
            try tracker.track(class: Filtered.self)
            let tracked = HM_CLASS_TRACKED.rawValue | HM_CLASS_DEATHS.rawValue
            #expect(hm_class_flags(metadata) == tracked)  // cached in this generation
            let cached = hm_filter_generation() & 0xfff
            #expect(hm_register_class(metadata, 0, 0) == 0)  // untracked: one change
            var changes = 1
            while hm_filter_generation() & 0xfff != cached {
                #expect(hm_register_class(churned, 0, changes % 2 == 1 ? HM_CLASS_DEATHS.rawValue : 0) == 0)
                changes += 1
            }
            #expect(changes == 4095)
            #expect(hm_class_flags(metadata) == 0, "the stale entry was taken for a current one")
            tracker.clear()
        }
    }
}
