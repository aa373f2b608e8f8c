import HeapMonitor
import HeapMonitorSamples
import Testing

@Suite("Collections and strings")
struct CollectionSizingTests {
    @Test func arrayVariants() {
        AllocatorOracle.expectExact { (0..<100).map { "element \($0) of a long array of strings" } }
        AllocatorOracle.expectExact { ContiguousArray((0..<50).map { Node(index: $0, parent: nil) }) }
        AllocatorOracle.expectExact { [[Int]](repeating: [1, 2, 3], count: 4) }  // one shared storage
    }

    /// `AsyncStream` buffers in the standard library's internal `_Deque`, a
    /// ring buffer in a `ManagedBuffer` subclass: its elements were not
    /// followed (an unbounded stream's backlog is a classic server leak).
    @Test func asyncStreamBuffersCountTheirElements() {
        AllocatorOracle.expectExact { () -> AsyncStream<String> in
            AsyncStream { continuation in
                for index in 0..<5 { continuation.yield(String(repeating: "buffered \(index) ", count: 4)) }
            }
        }
    }

    /// Consumed from the front and refilled, the ring wraps around its end:
    /// exactly the buffered elements are read, in order.
    @Test func wrappedRingBuffersReadTheirLiveSlotsOnly() async {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        for index in 0..<8 { continuation.yield(String(repeating: "first \(index) ", count: 4)) }
        var iterator = stream.makeAsyncIterator()
        for _ in 0..<6 { _ = await iterator.next() }
        for index in 0..<5 { continuation.yield(String(repeating: "second \(index) ", count: 4)) }
        let tree = sizedTree(of: stream, resolutionLevel: 9)
        func elements(_ node: SizedNode) -> [SizedNode] {
            node.referents.contains { $0.name == "[0]" } ? node.referents : node.referents.flatMap(elements)
        }
        let buffered = elements(tree)
        #expect(buffered.map(\.name) == (0..<7).map { "[\($0)]" }, "2 left of the first batch, 5 of the second")
        #expect(buffered.allSatisfy { $0.typeName.hasSuffix("String") && $0.size > 0 })
        continuation.finish()
    }

    @Test func emptyCollectionsAreStatic() {
        #expect(deepSize(of: [Int]()) == MemoryLayout<[Int]>.size)
        #expect(deepSize(of: [String: Int]()) == MemoryLayout<[String: Int]>.size)
        #expect(deepSize(of: Set<String>()) == MemoryLayout<Set<String>>.size)
    }

    @Test func sliceKeepsItsWholeBaseStorageAlive() {
        let base = Array(0..<1000)
        let slice = base[10..<20]
        #expect(
            deepSize(of: slice) == MemoryLayout<ArraySlice<Int>>.size + deepSize(of: base) - MemoryLayout<[Int]>.size)
    }

    @Test func dictionariesAndSets() {
        AllocatorOracle.expectExact {
            Dictionary(uniqueKeysWithValues: (0..<200).map { ("key number \($0) long enough", [$0, $0 + 1]) })
        }
        AllocatorOracle.expectExact { Set((0..<100).map { "member number \($0) long enough" }) }
        AllocatorOracle.expectExact {
            [Int: Node](uniqueKeysWithValues: (0..<20).map { ($0, Node(index: $0, parent: nil)) })
        }
    }

    @Test func stringRepresentations() {
        #expect(deepSize(of: "small") == MemoryLayout<String>.size)  // inline
        // A literal's storage is static: only the value's inline bytes count.
        #expect(deepSize(of: "a literal long enough to need more than fifteen bytes") == MemoryLayout<String>.size)
        AllocatorOracle.expectExact { String(repeating: "native storage ", count: 10) }
        let base = String(repeating: "shared substring base ", count: 10)
        let substring = base.dropFirst(5).prefix(20)
        #expect(
            deepSize(of: substring) == MemoryLayout<Substring>.size + deepSize(of: base) - MemoryLayout<String>.size)
        AllocatorOracle.expectExact { Character("👩‍👩‍👧‍👦") }
    }

    @Test func sharedStorageIsCountedOnce() {
        AllocatorOracle.expectExact { () -> [String] in
            let shared = String(repeating: "shared ", count: 20)
            return Array(repeating: shared, count: 100)
        }
    }
}
