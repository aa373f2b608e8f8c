@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

/// Generic types over parameter packs: the runtime aborts the process
/// ("Expected a metadata pack but got metadata") when their field types are
/// resolved with pack arguments it does not expect, so they are sized flat.
private final class PackHolder<each T> {
    var values: (repeat each T)
    var note = "holder of a pack"

    init(_ values: repeat each T) { self.values = (repeat each values) }
}

private struct PackPair<each T> {
    var values: (repeat each T)
}

extension TrackerSuite {
    @Suite("Parameter packs")
    struct PackTypeTests {
        @Test func packClassesAreSizedFlatAndMarked() {
            let holder = PackHolder(1, "two", [3])
            let tree = sizedTree(of: holder, resolutionLevel: 1)
            #expect(tree.isOpaque)
            #expect(tree.size >= tree.flatSize && tree.flatSize > 0)
        }

        @Test func packStructsAreSizedFlatAndMarked() {
            let pair = PackPair(values: (1, "two"))
            #expect(sizedTree(of: pair as Any, resolutionLevel: 1).size >= 0)
        }

        @Test func trackingAndLeakScansOfPackClassesGoOn() throws {
            let tracker = freshTracker()
            tracker.isolation = .inProcess
            try tracker.startWatchingForLeaks()
            try tracker.track(class: PackHolder<Int, String>.self)
            let holders = (0..<keep(10)).map { PackHolder($0, "n\($0)") }
            let snapshot = try tracker.takeSnapshot(named: "packs")
            #expect(snapshot.objects.count == 10)
            #expect(try tracker.findLeaks().cycles.isEmpty)
            _ = keep(holders)
        }
    }
}
