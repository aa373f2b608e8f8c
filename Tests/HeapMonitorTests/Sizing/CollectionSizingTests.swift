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

    @Test func emptyCollectionsAreStatic() {
        #expect(deepSize(of: [Int]()) == MemoryLayout<[Int]>.size)
        #expect(deepSize(of: [String: Int]()) == MemoryLayout<[String: Int]>.size)
        #expect(deepSize(of: Set<String>()) == MemoryLayout<Set<String>>.size)
    }

    @Test func sliceKeepsItsWholeBaseStorageAlive() {
        let base = Array(0..<1000)
        let slice = base[10..<20]
        #expect(deepSize(of: slice) == MemoryLayout<ArraySlice<Int>>.size + deepSize(of: base) - MemoryLayout<[Int]>.size)
    }

    @Test func dictionariesAndSets() {
        AllocatorOracle.expectExact { Dictionary(uniqueKeysWithValues: (0..<200).map { ("key number \($0) long enough", [$0, $0 + 1]) }) }
        AllocatorOracle.expectExact { Set((0..<100).map { "member number \($0) long enough" }) }
        AllocatorOracle.expectExact { [Int: Node](uniqueKeysWithValues: (0..<20).map { ($0, Node(index: $0, parent: nil)) }) }
    }

    @Test func stringRepresentations() {
        #expect(deepSize(of: "small") == MemoryLayout<String>.size)  // inline
        #expect(deepSize(of: "a literal long enough to need more than fifteen bytes") == MemoryLayout<String>.size)  // static
        AllocatorOracle.expectExact { String(repeating: "native storage ", count: 10) }
        let base = String(repeating: "shared substring base ", count: 10)
        let substring = base.dropFirst(5).prefix(20)
        #expect(deepSize(of: substring) == MemoryLayout<Substring>.size + deepSize(of: base) - MemoryLayout<String>.size)
        AllocatorOracle.expectExact { Character("👩‍👩‍👧‍👦") }
    }

    @Test func sharedStorageIsCountedOnce() {
        AllocatorOracle.expectExact { () -> [String] in
            let shared = String(repeating: "shared ", count: 20)
            return Array(repeating: shared, count: 100)
        }
    }
}
