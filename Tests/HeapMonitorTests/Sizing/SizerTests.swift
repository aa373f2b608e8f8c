import HeapMonitor
import HeapMonitorSamples
import Testing

private final class Holder {
    var content: [Int] = []
    var notMine: [Int] = []
}

@Suite("Stateful sizer")
struct SizerTests {
    @Test func sharedDataGoesToTheFirstValueSized() {
        let a = Holder(), b = Holder()
        b.content = Array(0..<100_000)
        let alone = deepSizes(of: [a, b])
        a.notMine = b.content
        let shared = deepSizes(of: [a, b])
        let storage = deepSize(of: b.content) - MemoryLayout<[Int]>.size
        #expect(shared[0] == alone[0] + storage)
        #expect(shared[1] == alone[1] - storage)
        #expect(shared.reduce(0, +) == alone.reduce(0, +))
    }

    /// Objects one reference holds, with no weak reference to them: a later
    /// call may still pass one as its root.
    @Test func objectsHeldOnceAreRememberedToo() {
        let chain = PlainLink(next: PlainLink(next: PlainLink(next: nil)))
        let sizer = Sizer()
        #expect(sizer.deepSize(of: chain) > 0)
        #expect(sizer.deepSize(of: chain.next!) == 0)
        #expect(sizer.deepSize(of: chain.next!.next!) == 0)
    }

    @Test func countedDataIsNotCountedAgain() {
        let root = buildNodeTree(count: 100)
        let sizer = Sizer()
        let first = sizer.deepSize(of: root)
        #expect(sizer.deepSize(of: root) == 0)
        #expect(sizer.deepSize(of: root.children[0]) == 0)
        #expect(sizer.countedBytes == first)
        sizer.reset()
        #expect(sizer.deepSize(of: root) == first)
    }

    @Test func excludedObjectsAndWhatOnlyTheyReachAreLeftOut() {
        let root = buildNodeTree(count: 100)
        let excluded = root.children[1]
        let sizer = Sizer()
        sizer.exclude(excluded)
        #expect(sizer.deepSize(of: root) == deepSize(of: root) - deepSize(of: excluded))
    }

    @Test func uniquelyReferencedObjectsReachedFromARootValueAreRemembered() {
        // The node is held once, by the array; a later call must not count it again.
        let nodes = [Node(index: 1, parent: nil)]
        let sizer = Sizer()
        let first = sizer.deepSize(of: nodes)
        #expect(first > MemoryLayout<[Node]>.size)
        #expect(sizer.deepSize(of: nodes) == MemoryLayout<[Node]>.size)
    }
}

private final class PlainLink {
    let next: PlainLink?
    let payload = [1, 2, 3]
    init(next: PlainLink?) { self.next = next }
}
