@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

private final class Leaf { var payload = [1, 2, 3, 4] }
private final class Branch { var leaves: [Leaf] = (0..<3).map { _ in Leaf() } }
private final class Named { var label = String(repeating: "named ", count: 4) }

extension TrackerSuite {
    @Suite("Tracking every class")
    struct EveryClassTrackingTests {
        @Test func everyLiveObjectIsSizedOnceAndTheMonitorsOwnAreLeftOut() throws {
            let tracker = freshTracker()
            try tracker.track(class: Named.self, resolutionLevel: 1)
            try tracker.trackEveryClass()
            #expect(tracker.tracksEveryClass)
            let branches = (0..<keep(10)).map { _ in Branch() }
            let named = Named()
            let snapshot = try tracker.takeSnapshot(named: "everything")
            let classes = Dictionary(grouping: tracker.objects.filter(\.isAlive), by: \.className)
            #expect(classes.keys.contains { $0.hasSuffix("Branch") } && classes.keys.contains { $0.hasSuffix("Leaf") })
            #expect(classes.first { $0.key.hasSuffix("Leaf") }?.value.count == 30)
            #expect(!classes.keys.contains { $0.hasPrefix("HeapMonitor.") }, "the monitor's own objects")
            // Each object without the others: they add up to the graph, every
            // block once.
            let ours = Set(
                tracker.objects.filter { object in
                    ["Branch", "Leaf", "Named"].contains { object.className.hasSuffix(".\($0)") }
                }.map(\.id))
            let sized = snapshot.objects.filter { ours.contains($0.object) }.reduce(0) { $0 + $1.size }
            #expect(sized == branches.reduce(deepSize(of: named)) { $0 + deepSize(of: $1) })
            let namedID = try #require(tracker.objects.first { $0.className.hasSuffix("Named") && $0.isAlive }).id
            #expect(snapshot.size(of: namedID)?.referents.isEmpty == false, "a class's own settings win")
            _ = keep((branches, named))
        }

        @Test func clearEndsIt() throws {
            let tracker = freshTracker()
            try tracker.trackEveryClass()
            tracker.clear()
            #expect(!tracker.tracksEveryClass && !tracker.isWatchingForLeaks)
            _ = keep(Branch())
            #expect(tracker.objects.isEmpty)
        }
    }
}
