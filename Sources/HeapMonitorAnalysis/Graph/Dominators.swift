import HeapMonitorModel

/// The dominator tree of a heap graph, retained sizes, and the shortest
/// path from a root to every object: what MAT and Chrome DevTools show as
/// "retained size" and "path to GC roots".
///
/// A node's *immediate dominator* is the last node every path from the
/// roots to it passes through; its *retained size* is what would be freed
/// if it went: its own bytes and those of every node it dominates. All
/// roots hang from one virtual root, `virtualRoot`, so that an object held
/// by two roots is dominated by neither.
///
/// Roots come in tiers, exact before conservative: every global roots its
/// targets; a stack word only what no global reaches (it may be stale); a
/// count from outside only what neither reaches (it may be transient). So
/// a cache a global holds retains its entries though a stack word of a
/// thread that once walked it still points into them.
///
/// ```swift
/// let tree = DominatorTree(graph)
/// let biggest = (0..<graph.count).max { tree.retainedBytes(of: $0) < tree.retainedBytes(of: $1) }
/// ```
///
/// Built with the semi-NCA algorithm (Lengauer–Tarjan semidominators, then
/// nearest common ancestors), iteratively: a chain of ten million objects
/// needs no recursion.
public struct DominatorTree: Sendable {
    /// The virtual root's number: one past the graph's last node.
    public let virtualRoot: Int
    /// Each node's immediate dominator (`virtualRoot` for nodes only roots
    /// dominate), -1 for nodes no root reaches.
    private(set) var dominators: [Int32]
    /// Each node's retained bytes (0 for nodes no root reaches).
    private(set) var retained: [UInt64]
    /// The node before each node on a shortest path from a root (-1 at a
    /// root's target), and the edge taken.
    private(set) var pathParent: [Int32]
    private(set) var pathEdge: [Int32]
    /// For each node first reached from a root, that root's index.
    private(set) var pathRoot: [Int32]

    /// Computes the tree of `graph`.
    public init(_ graph: HeapGraph) {
        let count = graph.count
        virtualRoot = count
        (pathParent, pathEdge, pathRoot) = Self.shortestPaths(graph)
        let order: [Int]
        (dominators, order) = Self.immediateDominators(graph, rootTargets: Self.rootTargets(graph, pathRoot))
        retained = [UInt64](repeating: 0, count: count)
        // A node comes after its dominator in depth-first order: retained
        // sizes add up from the last.
        for node in order.reversed() where node != count {
            retained[node] &+= UInt64(graph.nodeBytes[node])
            let dominator = Int(dominators[node])
            if dominator != count { retained[dominator] &+= retained[node] }
        }
    }

    /// `node`'s immediate dominator: `virtualRoot` when only the roots
    /// dominate it, nil when no root reaches it.
    public func immediateDominator(of node: Int) -> Int? {
        dominators[node] < 0 ? nil : Int(dominators[node])
    }

    /// Bytes freed if `node` went: its own and all it dominates.
    public func retainedBytes(of node: Int) -> Int { Int(retained[node]) }

    /// Whether any root reaches `node`.
    public func isReachable(_ node: Int) -> Bool { dominators[node] >= 0 }

    /// A shortest path to `node` from the globals, or if none reaches it
    /// from a stack, or else from outside the graph: the root's index in
    /// `graph.roots`, then the edges taken (indices into `edgeTargets`).
    /// Nil when no root reaches it.
    public func shortestPath(to node: Int) -> (root: Int, edges: [Int])? {
        guard pathRoot[node] >= 0 else { return nil }
        var edges: [Int] = []
        var current = node
        while pathParent[current] >= 0 {
            edges.append(Int(pathEdge[current]))
            current = Int(pathParent[current])
        }
        return (Int(pathRoot[current]), edges.reversed())
    }

    // MARK: Algorithms

    /// Breadth first from the exact roots (globals) at once; what they
    /// do not reach, from the stacks (conservative) and then from outside:
    /// a path through a global is preferred to a stale stack word's.
    private static func shortestPaths(_ graph: HeapGraph) -> ([Int32], [Int32], [Int32]) {
        let count = graph.count
        var parent = [Int32](repeating: -1, count: count)
        var via = [Int32](repeating: -1, count: count)
        var root = [Int32](repeating: -1, count: count)
        var queue: [Int32] = []
        queue.reserveCapacity(count)
        var head = 0
        for kind in HeapGraph.Root.Kind.allCases {
            for (index, holder) in graph.roots.enumerated() where holder.kind == kind {
                for target in holder.targets where root[Int(target)] < 0 {
                    root[Int(target)] = Int32(index)
                    queue.append(target)
                }
            }
            while head < queue.count {
                let node = Int(queue[head])
                head += 1
                for edge in graph.edges(of: node) {
                    let target = graph.target(ofEdge: edge)
                    guard root[target] < 0 else { continue }
                    root[target] = root[node]
                    parent[target] = Int32(node)
                    via[target] = Int32(edge)
                    queue.append(Int32(target))
                }
            }
        }
        return (parent, via, root)
    }

    /// The virtual root's successors: each root's targets that no root of
    /// an earlier tier reaches (`pathRoot` tells which root reached a node
    /// first; `shortestPaths` goes tier by tier).
    private static func rootTargets(_ graph: HeapGraph, _ pathRoot: [Int32]) -> [Int32] {
        graph.roots.flatMap { root in
            root.targets.filter { graph.roots[Int(pathRoot[Int($0)])].kind == root.kind }
        }
    }

    /// Semi-NCA over the graph plus the virtual root (node `count`): each
    /// node's immediate dominator, and the nodes in depth-first order.
    private static func immediateDominators(_ graph: HeapGraph, rootTargets: [Int32]) -> ([Int32], [Int]) {
        let count = graph.count, root = count
        // Depth-first numbering from the virtual root.
        var number = [Int32](repeating: -1, count: count + 1)
        var order: [Int] = []
        var parent: [Int32] = []
        order.reserveCapacity(count + 1)
        parent.reserveCapacity(count + 1)
        func successors(_ node: Int) -> Int { node == root ? rootTargets.count : graph.edges(of: node).count }
        func successor(_ node: Int, _ index: Int) -> Int {
            node == root ? Int(rootTargets[index]) : graph.target(ofEdge: graph.edges(of: node).lowerBound + index)
        }
        number[root] = 0
        order.append(root)
        parent.append(-1)
        var stack: [(node: Int, next: Int)] = [(root, 0)]
        while let top = stack.last {
            if top.next == successors(top.node) {
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].next += 1
            let target = successor(top.node, top.next)
            guard number[target] < 0 else { continue }
            number[target] = Int32(order.count)
            parent.append(number[top.node])
            order.append(target)
            stack.append((target, 0))
        }
        let reached = order.count
        // Predecessors, by depth-first number.
        var predecessorStart = [Int32](repeating: 0, count: reached + 1)
        func forEachEdge(_ body: (Int32, Int32) -> Void) {
            for target in rootTargets { body(0, number[Int(target)]) }
            for node in 0..<count where number[node] >= 0 {
                for edge in graph.edges(of: node) { body(number[node], number[graph.target(ofEdge: edge)]) }
            }
        }
        forEachEdge { _, to in predecessorStart[Int(to) + 1] += 1 }
        for index in 0..<reached { predecessorStart[index + 1] += predecessorStart[index] }
        var fill = predecessorStart
        var predecessors = [Int32](repeating: 0, count: Int(predecessorStart[reached]))
        forEachEdge { from, to in
            predecessors[Int(fill[Int(to)])] = from
            fill[Int(to)] += 1
        }
        fill = []
        // Semidominators in reverse depth-first order; `ancestor` links
        // processed vertices to their tree parents, compressed as it goes.
        var semi = (0..<reached).map(Int32.init)
        var label = semi
        var ancestor = [Int32](repeating: -1, count: reached)
        var path: [Int32] = []
        func evaluate(_ vertex: Int32) -> Int32 {
            guard ancestor[Int(vertex)] >= 0 else { return vertex }
            var current = vertex
            while ancestor[Int(ancestor[Int(current)])] >= 0 {
                path.append(current)
                current = ancestor[Int(current)]
            }
            while let next = path.popLast() {
                let up = ancestor[Int(next)]
                if semi[Int(label[Int(up)])] < semi[Int(label[Int(next)])] { label[Int(next)] = label[Int(up)] }
                ancestor[Int(next)] = ancestor[Int(up)]
            }
            return label[Int(vertex)]
        }
        for vertex in stride(from: reached - 1, to: 0, by: -1) {
            for index in Int(predecessorStart[vertex])..<Int(predecessorStart[vertex + 1]) {
                let best = semi[Int(evaluate(predecessors[index]))]
                if best < semi[vertex] { semi[vertex] = best }
            }
            ancestor[vertex] = parent[vertex]
        }
        predecessors = []
        // The immediate dominator is the nearest ancestor of the tree parent
        // at or above the semidominator.
        var dominator = parent
        for vertex in 1..<max(1, reached) {
            while dominator[vertex] > semi[vertex] { dominator[vertex] = dominator[Int(dominator[vertex])] }
        }
        var result = [Int32](repeating: -1, count: count)
        for vertex in 1..<max(1, reached) { result[order[vertex]] = Int32(order[Int(dominator[vertex])]) }
        return (result, order)
    }
}
