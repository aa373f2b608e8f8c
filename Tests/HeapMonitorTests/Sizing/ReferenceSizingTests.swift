import HeapMonitor
import HeapMonitorSamples
import Testing

private final class Holder {
    weak var weakTarget: Node?
    unowned var unownedTarget: Node
    unowned(unsafe) var unsafeTarget: Node
    var pointer: UnsafeMutablePointer<Int>
    var label = String(repeating: "holder ", count: 5)

    init(_ target: Node) {
        weakTarget = target
        unownedTarget = target
        unsafeTarget = target
        pointer = .allocate(capacity: 1000)
    }

    deinit { pointer.deallocate() }
}

private final class Link {
    var next: Link?
}

@Suite("References")
struct ReferenceSizingTests {
    @Test func weakUnownedAndPointersAreNotFollowed() {
        let target = buildNodeTree(count: 100)
        let holder = Holder(target)
        let expected = blockSize(of: holder) + deepSize(of: holder.label) - MemoryLayout<String>.size
        #expect(deepSize(of: holder) == expected)
        withExtendedLifetime(target) {}
    }

    @Test func weaklyReferencedObjectsCountTheirSideTable() {
        let node = Node(index: 1, parent: nil)
        let before = deepSize(of: node), blockBefore = blockSize(of: node)
        weak let observer = node
        #expect(observer != nil)
        let sideTable = blockSize(of: node) - blockBefore
        #expect(sideTable > 0)
        #expect(deepSize(of: node) == before + sideTable)
        AllocatorOracle.expectExact { () -> Node in
            let node = Node(index: 2, parent: nil)
            node.children = [Node(index: 3, parent: node)]  // the child's weak parent gives node a side table
            return node
        }
    }

    @Test func cyclesAreCountedOnce() {
        AllocatorOracle.expectExact { () -> Link in
            let first = Link(), second = Link()
            first.next = second
            second.next = first
            return first
        }
    }

    @Test func longChainsDoNotOverflowTheStack() {
        let count = 10_000_000
        let head = Link()
        var tail = head
        for _ in 1..<count {
            let link = Link()
            tail.next = link
            tail = link
        }
        var expected = 0
        var link: Link? = head
        while let current = link {
            expected += blockSize(of: current)  // reused blocks may be larger than fresh ones
            link = current.next
        }
        #expect(deepSize(of: head) == expected)
        // Released iteratively: a recursive deinit chain of this length would overflow.
        var current = head.next
        head.next = nil
        while let link = current {
            current = link.next
            link.next = nil
        }
    }
}
