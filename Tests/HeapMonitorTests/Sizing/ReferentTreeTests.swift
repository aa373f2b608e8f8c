import HeapMonitor
import HeapMonitorSamples
import Testing

private struct Pair {
    var left: [String]
    var right: Node
}

@Suite("Referent trees")
struct ReferentTreeTests {
    /// Every expanded node's size is its flat size plus its referents'.
    static func expectConsistent(_ node: SizedNode, sourceLocation: SourceLocation = #_sourceLocation) {
        if !node.referents.isEmpty {
            #expect(
                node.size == node.referents.reduce(node.flatSize) { $0 + $1.size }, "\(node.name)",
                sourceLocation: sourceLocation)
        }
        #expect(node.referents.allSatisfy { $0.size > 0 }, sourceLocation: sourceLocation)
        for referent in node.referents { expectConsistent(referent, sourceLocation: sourceLocation) }
    }

    @Test(arguments: 0...3)
    func treeSizeEqualsDeepSizeAtEveryLevel(level: Int) {
        let root = buildNodeTree(count: 200)
        let tree = sizedTree(of: root, resolutionLevel: level)
        #expect(tree.size == deepSize(of: root))
        Self.expectConsistent(tree)
    }

    @Test func levelOneListsStoredProperties() {
        let root = buildNodeTree(count: 20)
        let tree = sizedTree(of: root, name: "root", resolutionLevel: 1)
        #expect(tree.name == "root")
        #expect(tree.typeName == "HeapMonitorSamples.Node")
        #expect(Set(tree.referents.map(\.name)) == ["name", "children", "attrs"])  // weak parent is not followed
        #expect(tree.referent("children")?.referents.isEmpty == true)  // level 1 stops here
        #expect(tree.flatSize == blockSize(of: root))
    }

    @Test func levelTwoReachesElementsAndEntries() {
        let root = buildNodeTree(count: 20)
        let tree = sizedTree(of: root, resolutionLevel: 2)
        let children = tree.referent("children")
        #expect(children?.typeName == "Swift.Array<HeapMonitorSamples.Node>")
        #expect(children?.referents.map(\.name) == (0..<8).map { "[\($0)]" })
        #expect(tree.referent("children", "[0]")?.size == deepSize(of: root.children[0]))
    }

    @Test func dictionaryEntriesAreNamedByKey() {
        // Built at run time: literal collections may be static in optimised builds.
        let index = [
            String(repeating: "first key that is long ", count: 1): Array(1...3),
            String(repeating: "second key that is long ", count: 1): Array(4...4),
        ]
        let tree = sizedTree(of: index, resolutionLevel: 2)
        let names = Set(tree.referents.map(\.name))
        #expect(names.contains(#"["first key that is long "]"#))
        #expect(tree.referent(#"["first key that is long "]"#, "value")?.typeName == "Swift.Array<Swift.Int>")
    }

    @Test func structFieldsAreFirstOrderReferents() {
        let pair = Pair(
            left: [String(repeating: "a string long enough for storage ", count: 2)],
            right: Node(index: 1, parent: nil))
        let tree = sizedTree(of: pair, resolutionLevel: 1)
        #expect(Set(tree.referents.map(\.name)) == ["left", "right"])
        #expect(tree.flatSize == MemoryLayout<Pair>.size)
        #expect(tree.size == deepSize(of: pair))
    }

    @Test func negativeLevelsAreLevelZero() {
        let root = buildNodeTree(count: 5)
        #expect(sizedTree(of: root, resolutionLevel: -3).referents.isEmpty)
    }
}
