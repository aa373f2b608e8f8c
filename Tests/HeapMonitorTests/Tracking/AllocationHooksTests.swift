@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import CHeapMonitor
import Testing
#if canImport(Glibc)
import Glibc
#endif

private final class Probe { var x = 0 }

extension TrackerSuite {
    @Suite("Allocation hooks")
    struct AllocationHooksTests {
        @Test func installingTwiceChangesNothing() throws {
            try AllocationHooks.install()
            let patched = AllocationHooks.patchedEntries
            #expect(patched > 0)
            try AllocationHooks.install()
            #expect(AllocationHooks.patchedEntries == patched)
        }

        @Test func imagesLoadedLaterArePatchedOnRescan() throws {
            let tracker = freshTracker()
            try tracker.rescanImages()
            let before = tracker.patchedEntries
            // Never dlclose'd: the runtime keeps pointers into a Swift image's
            // conformance records for good.
            _ = try #require(dlopen("libFoundationXML.so", RTLD_NOW))
            try tracker.rescanImages()
            #expect(tracker.patchedEntries > before)
        }

        @Test func theFilterFollowsRegistrationsAndSuperclasses() throws {
            let tracker = freshTracker()
            let metadata = unsafeBitCast(Probe.self as AnyClass, to: UnsafeRawPointer.self)
            #expect(hm_class_flags(metadata) == 0)
            try tracker.track(class: Probe.self, trace: true)
            #expect(
                hm_class_flags(metadata) == HM_CLASS_TRACKED.rawValue | HM_CLASS_TRACED.rawValue
                    | HM_CLASS_DEATHS.rawValue)
            tracker.stopTracking(class: Probe.self)
            #expect(hm_class_flags(metadata) == HM_CLASS_DEATHS.rawValue)
            tracker.clear()
            #expect(hm_class_flags(metadata) == 0)
        }

        @Test func uninstallingRestoresEveryEntry() throws {
            let tracker = freshTracker()
            try tracker.track(class: Probe.self)
            _ = tracker.objects
            AllocationHooks.uninstall()
            #expect(AllocationHooks.patchedEntries == 0)
            let unseen = keep(Probe())
            #expect(tracker.objects.isEmpty)
            try AllocationHooks.install()
            let seen = keep(Probe())
            #expect(tracker.objects.count == 1)
            _ = keep((unseen, seen))
        }
    }
}
