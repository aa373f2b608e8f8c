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
        var search = Self.breadthFirst(graph)
        let budget = iterationBudget ?? Self.iterationBudget(graph)
        let byPosition =
            Self.iteratedDominators(search, budget: budget)
            ?? Self.semiNCADominators(graph, search)
        search.crossEdges = []
        dominators = [Int32](repeating: -1, count: count)
        retained = [UInt64](repeating: 0, count: count)
        // A dominator lies on every path to what it dominates, the
        // breadth-first one too: it has a lower position, and retained
        // sizes add up from the last.
        var retainedBelow = [UInt64](repeating: 0, count: search.order.count + 1)
        for position in stride(from: search.order.count, to: 0, by: -1) {
            let node = Int(search.order[position - 1]), up = Int(byPosition[position])
            dominators[node] = up == 0 ? Int32(count) : search.order[up - 1]
            let total = retainedBelow[position] &+ UInt64(graph.nodeBytes[node])
            retained[node] = total
            retainedBelow[up] &+= total
        }
        (pathParent, pathEdge, pathRoot) = (search.parent, search.edge, search.root)
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

    /// The breadth-first search from the roots. Nodes are also numbered by
    /// *position*: 0 the virtual root, then 1, 2, … in the order reached.
    struct Search {
        /// By node: the node it was reached from (-1 for a root's target
        /// or a node no root reaches), the edge taken, and the root.
        var parent: [Int32]
        var edge: [Int32]
        var root: [Int32]
        /// The node at each position from 1.
        var order: [Int32] = []
        /// By position: the position it was reached from (0 for the
        /// virtual root, whose successors are the roots' targets).
        var parentPosition: [Int32] = [0]
        /// Edges that found their target already reached, self-loops left
        /// out, as positions: with the parents, all edges between reached
        /// nodes.
        var crossEdges: [(from: Int32, to: Int32)] = []
    }

    /// Breadth first from the exact roots (globals) at once; what they
    /// do not reach, from the stacks (conservative) and then from outside:
    /// a path through a global is preferred to a stale stack word's. The
    /// virtual root's successors are each root's targets that no root of
    /// an earlier tier reaches.
    static func breadthFirst(_ graph: HeapGraph) -> Search {
        let count = graph.count
        var search = Search(
            parent: [Int32](repeating: -1, count: count), edge: [Int32](repeating: -1, count: count),
            root: [Int32](repeating: -1, count: count))
        search.order.reserveCapacity(count)
        search.parentPosition.reserveCapacity(count + 1)
        var position = [Int32](repeating: 0, count: count)
        var head = 0
        for kind in HeapGraph.Root.Kind.allCases {
            for (index, holder) in graph.roots.enumerated() where holder.kind == kind {
                for target in holder.targets where position[Int(target)] == 0 {
                    search.root[Int(target)] = Int32(index)
                    search.order.append(target)
                    search.parentPosition.append(0)
                    position[Int(target)] = Int32(search.order.count)
                }
            }
            while head < search.order.count {
                let node = Int(search.order[head])
                head += 1
                for edge in graph.edges(of: node) {
                    let target = graph.target(ofEdge: edge)
                    if position[target] != 0 {
                        if target != node { search.crossEdges.append((Int32(head), position[target])) }
                        continue
                    }
                    search.root[target] = search.root[node]
                    search.parent[target] = Int32(node)
                    search.edge[target] = Int32(edge)
                    search.order.append(Int32(target))
                    search.parentPosition.append(Int32(head))
                    position[target] = Int32(search.order.count)
                }
            }
        }
        return search
    }

    /// Each position's immediate dominator, as a position, by the
    /// iteration of Cooper, Harvey and Kennedy ("A Simple, Fast Dominance
    /// Algorithm") in breadth-first order; nil when it would take more
    /// than `budget` steps up the tree.
    ///
    /// Every node starts dominated by its breadth-first parent. A node
    /// no cross edge reaches has that one predecessor and keeps it; the
    /// others (*joins*) take, pass after pass, the nearest common
    /// dominator of their predecessors until none changes. Each pass only
    /// moves a dominator up, and every true dominator lies on the
    /// breadth-first path, so the iteration starts above the answer and
    /// stops on it; a dominator always has a lower position than what it
    /// dominates, which is what walking up to a common one relies on.
    static func iteratedDominators(_ search: Search, budget: Int) -> [Int32]? {
        var dominator = search.parentPosition
        // The virtual root's successors are dominated by it alone.
        var joining = search.crossEdges.filter { dominator[Int($0.to)] != 0 }
        joining.sort { $0.to < $1.to }
        var steps = 0
        var changed = true
        while changed {
            changed = false
            var first = 0
            while first < joining.count {
                let join = joining[first].to
                var common = search.parentPosition[Int(join)]
                while first < joining.count, joining[first].to == join {
                    var other = joining[first].from
                    first += 1
                    while common != other {
                        while common > other { (common, steps) = (dominator[Int(common)], steps + 1) }
                        while other > common { (other, steps) = (dominator[Int(other)], steps + 1) }
                    }
                }
                if common != dominator[Int(join)] {
                    dominator[Int(join)] = common
                    changed = true
                }
                if steps > budget { return nil }
            }
        }
        return dominator
    }
}
