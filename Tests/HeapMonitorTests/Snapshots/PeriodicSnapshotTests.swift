@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Dispatch
import Testing

private final class Churned {
    var items: [Int]
    var label: String
    init(_ seed: Int) {
        items = Array(0..<(seed % 64))
        label = "churned object \(seed)"
    }
}

extension TrackerSuite {
    @Suite("Periodic snapshots")
    struct PeriodicSnapshotTests {
        @Test func withoutTrackedObjectsTheyRecordProcessMemoryOnly() async throws {
            let tracker = freshTracker()
            tracker.startPeriodicSnapshots(every: .milliseconds(5), description: "tick")
            try await Task.sleep(for: .milliseconds(100))
            tracker.stopPeriodicSnapshots()
            let snapshots = tracker.snapshots
            #expect(snapshots.count >= 3)
            #expect(
                snapshots.allSatisfy { $0.description == "tick" && $0.objects.isEmpty && $0.memory.residentBytes > 0 })
            #expect(zip(snapshots, snapshots.dropFirst()).allSatisfy { $0.time < $1.time })
            let count = tracker.snapshots.count
            try await Task.sleep(for: .milliseconds(30))
            #expect(tracker.snapshots.count == count)
        }

        /// Other threads create, change and free tracked objects while
        /// snapshots run in the background: nothing may crash, and every
        /// object is accounted for at the end.
        @Test func theyAreSafeWhileOtherThreadsMutateTrackedObjects() async throws {
            let tracker = freshTracker()
            try tracker.track(class: Churned.self, resolutionLevel: 1)
            try tracker.startCensus()
            tracker.startPeriodicSnapshots(every: .milliseconds(2))
            let threads = 4, perThread = 20_000
            await withTaskGroup(of: Void.self) { group in
                for thread in 0..<threads {
                    group.addTask {
                        var live: [Churned] = []
                        for index in 0..<perThread {
                            let object = Churned(index &* (thread + 1))
                            if index % 3 == 0 { live.append(object) }
                            if live.count > 100 { live.removeFirst(50) }
                            if let last = live.last { last.items.append(index); last.label += "!" }
                        }
                    }
                }
                for await _ in group {}
            }
            tracker.stopPeriodicSnapshots()
            tracker.stopCensus()
            let snapshots = tracker.snapshots
            #expect(snapshots.count >= 2)
            #expect(snapshots.allSatisfy { $0.objects.isEmpty })
            #expect(snapshots.contains { $0.liveObjectCount > 0 })
            let kept = tracker.objects, short = tracker.shortLivedObjects.reduce(0) { $0 + $1.count }
            #expect(kept.count + short == threads * perThread)
            #expect(kept.allSatisfy { !$0.isAlive })
            #expect(tracker.census().first { $0.className.hasSuffix("Churned") }?.liveCount == 0)
            #expect(try tracker.takeSnapshot(named: "after").liveObjectCount == 0)
        }

        /// Memory-only background snapshots do not make records permanent:
        /// objects that outlive several of them but die before the next
        /// sized snapshot are counted, not kept, so a long run stays flat.
        @Test func backgroundSnapshotsKeepNoRecordOfObjectsTheyOutlived() async throws {
            let tracker = freshTracker()
            try tracker.track(class: Churned.self)
            tracker.startPeriodicSnapshots(every: .milliseconds(2))
            var batch = (0..<keep(100)).map(Churned.init)
            try await Task.sleep(for: .milliseconds(30))
            #expect(tracker.snapshots.contains { $0.liveObjectCount == 100 }, "counted while alive")
            batch = []
            try await Task.sleep(for: .milliseconds(10))
            tracker.stopPeriodicSnapshots()
            #expect(tracker.objects.isEmpty)
            #expect(tracker.shortLivedObjects.first { $0.className.hasSuffix("Churned") }?.count == 100)
            _ = keep(batch)
        }

        @Test func sizingPeriodicSnapshotsSizeQuiescentObjects() async throws {
            let tracker = freshTracker()
            let objects = (0..<10).map { Churned($0 + 10) }
            for object in objects { try tracker.track(object) }
            tracker.startPeriodicSnapshots(every: .milliseconds(5), sizingObjects: true)
            try await Task.sleep(for: .milliseconds(60))
            tracker.stopPeriodicSnapshots()
            let expected = deepSizes(of: objects).reduce(0, +)
            #expect(tracker.snapshots.count >= 2)
            #expect(tracker.snapshots.allSatisfy { $0.objects.count == 10 && $0.trackedBytes == expected })
        }
    }
}
