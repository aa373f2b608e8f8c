@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import CHeapMonitor
import Foundation
import HeapMonitorSamples
import Testing

private final class A {
    var content: [Int] = []
    var notMine: [Int] = []
    var friend: A?
}

extension TrackerSuite {
    @Suite("Snapshots")
    struct SnapshotTests {
        /// Shared data goes to the object registered first.
        @Test func sharedDataIsAssignedToTheFirstRegisteredObject() throws {
            let tracker = freshTracker()
            let a = A()
            try tracker.track(a)
            let b = A()
            try tracker.track(b)
            b.content = Array(0..<100_000)
            let storage = deepSize(of: b.content) - MemoryLayout<[Int]>.size
            let first = try tracker.takeSnapshot(named: "#1")
            a.notMine = b.content
            let second = try tracker.takeSnapshot(named: "#2")
            let (aID, bID) = (tracker.objects[0].id, tracker.objects[1].id)
            // Blocks of one class may differ in size (glibc hands out a larger
            // chunk rather than split off a remainder too small to use).
            let (aFlat, bFlat) = (flatSize(of: a), flatSize(of: b))
            #expect(first.size(of: aID)!.size == aFlat)
            #expect(first.size(of: bID)!.size == bFlat + storage)
            #expect(second.size(of: aID)!.size == aFlat + storage)
            #expect(second.size(of: bID)!.size == bFlat)
            #expect(second.trackedBytes == first.trackedBytes)
        }

        @Test func aTrackedObjectNeverIncludesAnotherTrackedObject() throws {
            let tracker = freshTracker()
            let outer = A(), inner = A()
            inner.content = Array(0..<10_000)
            outer.friend = inner
            try tracker.track(outer)
            try tracker.track(inner)
            let snapshot = try tracker.takeSnapshot()
            #expect(snapshot.objects[0].size == flatSize(of: outer))
            #expect(snapshot.objects[1].size == deepSize(of: inner))
            #expect(snapshot.trackedBytes == deepSize(of: outer))
        }

        @Test func classTrackedTreesSplitIntoTheirNodes() throws {
            let tracker = freshTracker()
            try tracker.track(class: Node.self)
            let root = buildNodeTree(count: 1000)
            let snapshot = try tracker.takeSnapshot(named: "tree")
            #expect(snapshot.objects.count == 1000 && snapshot.liveObjectCount == 1000)
            #expect(snapshot.trackedBytes == deepSize(of: root))
            _ = keep(root)
        }

        @Test func snapshotsRecordProcessMemoryAndTheMonitorsOwn() throws {
            let tracker = freshTracker()
            let snapshot = try tracker.takeSnapshot(named: "empty")
            #expect(snapshot.description == "empty")
            #expect(snapshot.memory.virtualBytes > snapshot.memory.residentBytes)
            // Another allocator (the thread sanitizer's) has no mallinfo2 figures.
            #expect(
                snapshot.memory.residentBytes > 0
                    && (snapshot.memory.allocatorBytes > 0 || hm_allocator_is_glibc() == 0))
            #expect(snapshot.monitorBytes > 0)
            #expect(tracker.snapshots.count == 1)
        }

        /// Background snapshots reuse the allocator's figure while reading a
        /// new one would cost more than 2 % of the time: on a heap of 100,000
        /// blocks with every other one freed, `mallinfo2` takes milliseconds.
        @Test func backgroundSnapshotsThrottleTheAllocatorsCount() {
            let blocks = (0..<100_000).map { malloc(16 + $0 % 64 * 8)! }
            for index in stride(from: 0, to: blocks.count, by: 2) { free(blocks[index]) }
            defer { for index in stride(from: 1, to: blocks.count, by: 2) { free(blocks[index]) } }
            usleep(100_000)  // past any window an earlier call opened (small heaps: well under 50 ms)
            let before = hm_allocator_in_use_sampled()  // a fresh figure, and a window of 49 times its cost
            let extra = malloc(1 << 20)
            defer { free(extra) }
            #expect(hm_allocator_in_use_sampled() == before, "within the window: the last figure")
            #expect(hm_allocator_in_use() != before || hm_allocator_is_glibc() == 0, "the exact figure moved")
        }

        /// A long run that streams its profile keeps memory flat: the
        /// tracker drops its oldest snapshots, the file keeps them all.
        @Test func theSnapshotLimitKeepsTheNewestInMemoryAndAllInTheProfile() throws {
            let path = temporaryPath("limit.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.startProfile(at: path)
            tracker.snapshotLimit = 2
            for index in 0..<5 { try tracker.takeSnapshot(named: "snapshot \(index)") }
            #expect(tracker.snapshots.map(\.description) == ["snapshot 3", "snapshot 4"])
            try tracker.stopProfile()
            #expect(try Profile.load(from: path).snapshots.count == 5)
            tracker.clear()
            #expect(tracker.snapshotLimit == nil)
        }
    }
}
