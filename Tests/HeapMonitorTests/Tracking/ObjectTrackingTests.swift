@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

private final class Document {
    var title: String
    var lines: [String]
    init(_ title: String, lines: Int) {
        self.title = title
        self.lines = (0..<lines).map { "line number \($0) of the document" }
    }
}

extension TrackerSuite {
    @Suite("Object tracking")
    struct ObjectTrackingTests {
        @Test func aTrackedObjectIsSizedByEverySnapshotWhileAlive() throws {
            let tracker = freshTracker()
            var document: Document? = Document(String(repeating: "title ", count: 5), lines: 100)
            try tracker.track(document!, name: "report", resolutionLevel: 1)
            let first = try tracker.takeSnapshot(named: "first")
            let tracked = try #require(tracker.objects.first)
            #expect(tracked.name == "report" && tracked.resolutionLevel == 1 && tracked.isAlive)
            #expect(tracked.className.hasSuffix("Document"))
            let size = try #require(first.size(of: tracked.id))
            #expect(size.size == deepSize(of: document!))
            #expect(size.referents.map(\.name).sorted() == ["lines", "title"])
            document = nil
            let second = try tracker.takeSnapshot(named: "second")
            #expect(second.objects.isEmpty && second.liveObjectCount == 0)
            #expect(tracker.objects.first?.isAlive == false)
        }

        @Test func aNewResolutionLevelTakesEffectAtTheNextSnapshot() throws {
            let tracker = freshTracker()
            let document = Document("t", lines: 10)
            try tracker.track(document)
            #expect(try tracker.takeSnapshot().objects[0].referents.isEmpty)
            #expect(tracker.setResolutionLevel(2, for: document))
            let tree = try tracker.takeSnapshot().objects[0]
            #expect(tree.referent("lines")?.referents.count == 10)
            #expect(!tracker.setResolutionLevel(1, for: Document("other", lines: 1)))
        }

        @Test func trackingTwiceKeepsOneRecord() throws {
            let tracker = freshTracker()
            let document = Document("t", lines: 1)
            try tracker.track(document, name: "a")
            try tracker.track(document, name: "b", resolutionLevel: 3)
            #expect(tracker.objects.map(\.name) == ["b"])
            #expect(tracker.objects.map(\.resolutionLevel) == [3])
        }

        @Test func standardLibraryObjectsAreRefused() throws {
            let tracker = freshTracker()
            let array = Array(0..<keep(3))
            // On Linux an array is one reference to its storage object.
            let storage = unsafeBitCast(array, to: AnyObject.self)
            #expect(throws: HookError.self) { try tracker.track(storage) }
            #expect(tracker.objects.isEmpty)
            _ = keep(array)
        }

        @Test func clearForgetsEverything() throws {
            let tracker = freshTracker()
            let document = Document("t", lines: 1)
            try tracker.track(document)
            try tracker.track(class: Document.self)
            try tracker.takeSnapshot()
            tracker.clear()
            let later = Document("u", lines: 1)
            #expect(tracker.objects.isEmpty && tracker.snapshots.isEmpty)
            _ = keep((document, later))
        }
    }
}

extension Snapshot.ObjectSize {
    /// The referent reached by following `names`.
    func referent(_ names: String...) -> SizedNode? {
        guard let first = names.first, let node = referents.first(where: { $0.name == first }) else { return nil }
        return names.dropFirst().reduce(Optional(node)) { node, name in node?.referent(name) }
    }
}
