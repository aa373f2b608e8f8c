@testable import HeapMonitorAnalysis
import HeapMonitorModel
import Testing

/// A graph of `bytes.count` nodes of type `T<n>`: `edges` as (from, to),
/// `roots` as (kind, name, targets).
func handBuiltGraph(
    bytes: [Int], edges: [(Int, Int)], roots: [(HeapGraph.Root.Kind, String, [Int])],
    watched: Int? = nil
) -> HeapGraph {
    var graph = HeapGraph()
    graph.labels = ["next"]
    for (node, size) in bytes.enumerated() {
        graph.typeNames.append("Test.T\(node)")
        _ = graph.addNode(typeName: node, bytes: size, address: UInt(0x1000 + node * 16))
    }
    graph.watchedCount = watched ?? bytes.count
    var targets = [[Int]](repeating: [], count: bytes.count)
    for (from, to) in edges { targets[from].append(to) }
    for node in bytes.indices {
        for target in targets[node] { graph.addEdge(to: target, label: 0) }
        graph.closeEdges()
    }
    graph.roots = roots.map { HeapGraph.Root(kind: $0.0, name: $0.1, targets: $0.2.map(Int32.init)) }
    return graph
}

/// The roots' targets, tier by tier: globals', then stacks' that no global
/// reaches, then those from outside that neither reaches.
private func effectiveRoots(_ graph: HeapGraph) -> [Int] {
    var roots: [Int] = []
    for kind in HeapGraph.Root.Kind.allCases {
        let reached = reachable(graph, from: roots)
        roots += graph.roots.filter { $0.kind == kind }.flatMap(\.targets).map(Int.init)
            .filter { !reached.contains($0) }
    }
    return roots
}

/// The nodes a root still reaches when `removed` is taken out.
private func reachable(_ graph: HeapGraph, without removed: Int = -1) -> Set<Int> {
    reachable(graph, from: effectiveRoots(graph), without: removed)
}

private func reachable(_ graph: HeapGraph, from roots: [Int], without removed: Int = -1) -> Set<Int> {
    var seen = Set<Int>()
    var stack = roots.filter { $0 != removed }
    while let node = stack.popLast() {
        guard seen.insert(node).inserted else { continue }
        for edge in graph.edges(of: node) where graph.target(ofEdge: edge) != removed {
            stack.append(graph.target(ofEdge: edge))
        }
    }
    return seen
}

/// Checks the tree against the definition: a node's retained bytes are
/// those of itself and of what becomes unreachable without it; its
/// immediate dominator is a dominator, and every other dominator of the
/// node dominates it too.
/// Both algorithms: the iteration, and semi-NCA (an iteration budget of 0).
private func checkAgainstDefinition(_ graph: HeapGraph) {
    checkAgainstDefinition(graph, DominatorTree(graph))
    let semiNCA = DominatorTree(graph, iterationBudget: 0)
    checkAgainstDefinition(graph, semiNCA)
}

private func checkAgainstDefinition(_ graph: HeapGraph, _ tree: DominatorTree) {
    let all = reachable(graph)
    var dominated: [Int: Set<Int>] = [:]
    for node in 0..<graph.count {
        dominated[node] = all.subtracting(reachable(graph, without: node))
    }
    for node in 0..<graph.count {
        #expect(tree.isReachable(node) == all.contains(node), "node \(node) reachable")
        guard all.contains(node) else { continue }
        let expected = dominated[node]!.reduce(0) { $0 + Int(graph.nodeBytes[$1]) }
        #expect(tree.retainedBytes(of: node) == expected, "retained bytes of node \(node)")
        let dominators = Set((0..<graph.count).filter { $0 != node && dominated[$0]!.contains(node) })
        let immediate = tree.immediateDominator(of: node)
        if dominators.isEmpty {
            #expect(immediate == tree.virtualRoot, "node \(node) hangs from the roots")
        } else {
            let idom = try? #require(immediate)
            #expect(idom.map { dominators.contains($0) } == true, "idom of \(node) dominates it")
            #expect(dominators.allSatisfy { $0 == idom || dominated[$0]!.contains(idom ?? -1) })
        }
    }
}

@Suite("Dominator tree")
struct DominatorTreeTests {
    @Test func aChainRetainsItsTail() {
        let graph = handBuiltGraph(
            bytes: [10, 20, 30, 40], edges: [(0, 1), (1, 2), (2, 3)], roots: [(.global, "g", [0])])
        let tree = DominatorTree(graph)
        #expect((0..<4).map(tree.retainedBytes) == [100, 90, 70, 40])
        #expect((0..<4).map { tree.immediateDominator(of: $0) } == [tree.virtualRoot, 0, 1, 2])
        checkAgainstDefinition(graph)
    }

    @Test func aDiamondsJoinIsDominatedByItsTop() {
        let graph = handBuiltGraph(
            bytes: [1, 2, 4, 8], edges: [(0, 1), (0, 2), (1, 3), (2, 3)], roots: [(.global, "g", [0])])
        let tree = DominatorTree(graph)
        #expect(tree.immediateDominator(of: 3) == 0)
        #expect(tree.retainedBytes(of: 1) == 2 && tree.retainedBytes(of: 0) == 15)
        checkAgainstDefinition(graph)
    }

    @Test func aCycleHeldFromOnePointHangsFromIt() {
        let graph = handBuiltGraph(
            bytes: [5, 6, 7], edges: [(0, 1), (1, 2), (2, 0)], roots: [(.stack, "thread 1", [1])])
        let tree = DominatorTree(graph)
        #expect(tree.immediateDominator(of: 1) == tree.virtualRoot)
        #expect(tree.retainedBytes(of: 1) == 18)
        checkAgainstDefinition(graph)
    }

    @Test func aSubtreeSharedByTwoRootsBelongsToNeither() {
        let graph = handBuiltGraph(
            bytes: [1, 1, 100, 50], edges: [(0, 2), (1, 2), (2, 3)],
            roots: [(.global, "a", [0]), (.global, "b", [1])])
        let tree = DominatorTree(graph)
        #expect(tree.retainedBytes(of: 0) == 1 && tree.retainedBytes(of: 1) == 1)
        #expect(tree.immediateDominator(of: 2) == tree.virtualRoot)
        #expect(tree.retainedBytes(of: 2) == 150)
        checkAgainstDefinition(graph)
    }

    @Test func objectsOnlyAGlobalOrOnlyAStackHoldsAreRetainedByNoObject() {
        let graph = handBuiltGraph(
            bytes: [3, 4, 9], edges: [], roots: [(.global, "App.cache", [0]), (.stack, "thread 7", [1])])
        let tree = DominatorTree(graph)
        #expect(tree.immediateDominator(of: 0) == tree.virtualRoot)
        #expect(tree.immediateDominator(of: 1) == tree.virtualRoot)
        #expect(!tree.isReachable(2) && tree.retainedBytes(of: 2) == 0)
        #expect(tree.shortestPath(to: 2) == nil)
        checkAgainstDefinition(graph)
    }

    @Test(arguments: 1...60)
    func randomGraphsMatchTheDefinition(_ seed: UInt64) {
        var random = SplitMix(seed: seed)
        let count = 2 + Int(random.next() % 60)
        let bytes = (0..<count).map { _ in 1 + Int(random.next() % 100) }
        var edges: [(Int, Int)] = []
        // From sparse (mostly one holder, as heaps are) to dense.
        for _ in 0..<(count * (1 + Int(seed % 3))) {
            edges.append((Int(random.next() % UInt64(count)), Int(random.next() % UInt64(count))))
        }
        let kinds = HeapGraph.Root.Kind.allCases
        let roots = (0..<(1 + Int(random.next() % 4))).map { index in
            (kinds[Int(random.next() % 3)], "r\(index)", [Int(random.next() % UInt64(count))])
        }
        checkAgainstDefinition(handBuiltGraph(bytes: bytes, edges: edges, roots: roots))
    }

    @Test func aStaleStackWordDoesNotTakeAnEntryFromItsCache() {
        // g → cache 0 → storage 1 → entries 2, 3; a stack word points at 1.
        let graph = handBuiltGraph(
            bytes: [48, 1000, 200, 300], edges: [(0, 1), (1, 2), (1, 3)],
            roots: [(.global, "App.cache", [0]), (.stack, "thread 2", [1]), (.outside, "outside", [2])])
        let tree = DominatorTree(graph)
        #expect(tree.retainedBytes(of: 0) == 1548)
        #expect(tree.immediateDominator(of: 1) == 0 && tree.immediateDominator(of: 2) == 1)
        checkAgainstDefinition(graph)
    }

    @Test func linksAllHoldingOneObjectAreLeftToSemiNCA() {
        // Each link of a chain also holds one shared object: the iteration
        // would walk the chain up once per link.
        let links = 3000, shared = links
        let graph = handBuiltGraph(
            bytes: [Int](repeating: 8, count: links) + [1000],
            edges: (0..<(links - 1)).map { ($0, $0 + 1) } + (0..<links).map { ($0, shared) },
            roots: [(.global, "head", [0])])
        let search = DominatorTree.breadthFirst(graph)
        let budget = DominatorTree.iterationBudget(graph)
        #expect(DominatorTree.iteratedDominators(search, budget: budget) == nil)
        // Positions: the head is 1, the shared object 3 (after link 1).
        #expect(search.order[2] == Int32(shared))
        #expect(DominatorTree.iteratedDominators(search, budget: .max)?[3] == 1)
        let tree = DominatorTree(graph)
        #expect(tree.immediateDominator(of: shared) == 0)
        #expect(tree.retainedBytes(of: 0) == 8 * links + 1000)
        #expect(tree.retainedBytes(of: 1) == 8 * (links - 1))
    }

    @Test func aLongChainNeedsNoRecursion() {
        let count = 1_000_000
        let graph = handBuiltGraph(
            bytes: [Int](repeating: 8, count: count), edges: (0..<(count - 1)).map { ($0, $0 + 1) },
            roots: [(.global, "head", [0])])
        let tree = DominatorTree(graph)
        #expect(tree.retainedBytes(of: 0) == 8 * count)
        #expect(tree.shortestPath(to: count - 1)?.edges.count == count - 1)
    }
}
