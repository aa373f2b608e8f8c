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
/// Computed in breadth-first order from the roots by Cooper, Harvey and
/// Kennedy's iteration, which on heap graphs (mostly trees, few objects
/// with two holders) touches each object about once; a graph where it
/// would take long falls back to semi-NCA, whose bound holds for any
/// graph (`DominatorTree+SemiNCA.swift`). Both are iterative: a chain of
/// ten million objects needs no recursion.
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
    public init(_ graph: HeapGraph) { self.init(graph, iterationBudget: nil) }

    /// `iterationBudget`: steps the iteration may take before semi-NCA is
    /// used instead; nil for a budget proportional to the graph (tests pass
    /// 0 to check semi-NCA alone).
    init(_ graph: HeapGraph, iterationBudget: Int?) {
        let count = graph.count
        virtualRoot = count
        let search = Self.breadthFirst(graph)
        (pathParent, pathEdge, pathRoot) = (search.parent, search.edge, search.root)
        let budget = iterationBudget ?? Self.iterationBudget(graph)
        dominators =
            Self.iteratedDominators(graph, search, budget: budget)
            ?? Self.semiNCADominators(graph, rootTargets: search.order.filter { search.parent[Int($0)] < 0 })
        retained = [UInt64](repeating: 0, count: count)
        // A dominator lies on every path to what it dominates, the
        // breadth-first one too: it comes first in that order, and
        // retained sizes add up from the last.
        for node in search.order.reversed().lazy.map(Int.init) {
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

    /// Steps up the tree the iteration may take: a few per edge, far more
    /// than heaps need, far less than its quadratic worst case.
    static func iterationBudget(_ graph: HeapGraph) -> Int { 8 * (graph.count + graph.edgeCount) + 1024 }

    /// The breadth-first search from the roots: each node's parent, the
    /// edge from it and the root it was reached from (-1 where none), and
    /// the nodes reached, in the order found.
    struct Search {
        var parent: [Int32]
        var edge: [Int32]
        var root: [Int32]
        var order: [Int32]
    }

    /// Breadth first from the exact roots (globals) at once; what they
    /// do not reach, from the stacks (conservative) and then from outside:
    /// a path through a global is preferred to a stale stack word's. The
    /// nodes without a parent are the virtual root's successors: each
    /// root's targets that no root of an earlier tier reaches.
    static func breadthFirst(_ graph: HeapGraph) -> Search {
        let count = graph.count
        var search = Search(
            parent: [Int32](repeating: -1, count: count), edge: [Int32](repeating: -1, count: count),
            root: [Int32](repeating: -1, count: count), order: [])
        search.order.reserveCapacity(count)
        var head = 0
        for kind in HeapGraph.Root.Kind.allCases {
            for (index, holder) in graph.roots.enumerated() where holder.kind == kind {
                for target in holder.targets where search.root[Int(target)] < 0 {
                    search.root[Int(target)] = Int32(index)
                    search.order.append(target)
                }
            }
            while head < search.order.count {
                let node = Int(search.order[head])
                head += 1
                for edge in graph.edges(of: node) {
                    let target = graph.target(ofEdge: edge)
                    guard search.root[target] < 0 else { continue }
                    search.root[target] = search.root[node]
                    search.parent[target] = Int32(node)
                    search.edge[target] = Int32(edge)
                    search.order.append(Int32(target))
                }
            }
        }
        return search
    }

    /// Each node's immediate dominator by the iteration of Cooper, Harvey
    /// and Kennedy ("A Simple, Fast Dominance Algorithm"), over positions
    /// in breadth-first order (0 the virtual root); nil when it would take
    /// more than `budget` steps up the tree.
    ///
    /// Every node starts dominated by its breadth-first parent. A node
    /// with one predecessor keeps it; the others take, pass after pass,
    /// the nearest common dominator of their predecessors until none
    /// changes. Each pass only moves a dominator up, and every true
    /// dominator lies on the breadth-first path, so the iteration starts
    /// above the answer and stops on it; a dominator always has a lower
    /// position than what it dominates, which is what walking up to a
    /// common one relies on.
    static func iteratedDominators(_ graph: HeapGraph, _ search: Search, budget: Int) -> [Int32]? {
        let reached = search.order.count
        var position = [Int32](repeating: -1, count: graph.count)
        for (index, node) in search.order.enumerated() { position[Int(node)] = Int32(index + 1) }
        var dominator = [Int32](repeating: 0, count: reached + 1)
        // Predecessors of the nodes with two or more (`joins`), counted
        // per position, then laid out as `start[p]..<start[p + 1]`.
        var start = [Int32](repeating: 0, count: reached + 2)
        for index in 0..<reached {
            let node = Int(search.order[index]), parent = search.parent[node]
            dominator[index + 1] = parent < 0 ? 0 : position[Int(parent)]
            for edge in graph.edges(of: node) { start[Int(position[graph.target(ofEdge: edge)])] += 1 }
        }
        var isJoin = [Bool](repeating: false, count: reached + 1)
        var joins: [Int32] = []
        for current in stride(from: 1, through: reached, by: 1) {
            // The virtual root's successors are dominated by it alone.
            if start[current] >= 2, dominator[current] != 0 {
                isJoin[current] = true
                joins.append(Int32(current))
            } else {
                start[current] = 0
            }
        }
        // Counts become offsets one place on: `start[p + 1]` is where
        // `p`'s predecessors go, and ends past them once they are in.
        var total: Int32 = 0, pending: Int32 = 0
        for current in 0...reached {
            let next = start[current + 1]
            start[current + 1] = total
            total += pending
            pending = next
        }
        var predecessors = [Int32](repeating: 0, count: Int(total))
        for index in 0..<reached {
            for edge in graph.edges(of: Int(search.order[index])) {
                let target = Int(position[graph.target(ofEdge: edge)])
                guard isJoin[target] else { continue }
                predecessors[Int(start[target + 1])] = Int32(index + 1)
                start[target + 1] += 1
            }
        }
        position = []
        isJoin = []
        var steps = 0
        var changed = true
        while changed {
            changed = false
            for current in joins.lazy.map(Int.init) {
                var common: Int32 = -1
                for index in Int(start[current])..<Int(start[current + 1]) {
                    var other = predecessors[index]
                    guard other != Int32(current) else { continue }
                    guard common >= 0 else {
                        common = other
                        continue
                    }
                    while common != other {
                        while common > other { (common, steps) = (dominator[Int(common)], steps + 1) }
                        while other > common { (other, steps) = (dominator[Int(other)], steps + 1) }
                    }
                }
                if common >= 0, common != dominator[current] {
                    dominator[current] = common
                    changed = true
                }
                if steps > budget { return nil }
            }
        }
        var result = [Int32](repeating: -1, count: graph.count)
        for (index, node) in search.order.enumerated() {
            let up = Int(dominator[index + 1])
            result[Int(node)] = up == 0 ? Int32(graph.count) : search.order[up - 1]
        }
        return result
    }
}
