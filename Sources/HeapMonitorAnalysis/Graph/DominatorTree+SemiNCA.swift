import HeapMonitorModel

extension DominatorTree {
    /// Each position's immediate dominator, as a position (see `Search`),
    /// by semi-NCA (Lengauer–Tarjan semidominators, then nearest common
    /// ancestors) over the graph plus the virtual root: O(edges × log
    /// nodes) on any graph.
    static func semiNCADominators(_ graph: HeapGraph, _ search: Search) -> [Int32] {
        var position = [Int32](repeating: 0, count: graph.count + 1)
        for (index, node) in search.order.enumerated() { position[Int(node)] = Int32(index + 1) }
        let rootTargets = search.order.filter { search.parent[Int($0)] < 0 }
        let byNode = semiNCADominators(graph, rootTargets: rootTargets)
        return [0] + search.order.map { position[Int(byNode[Int($0)])] }
    }

    /// Each node's immediate dominator over the graph plus the virtual
    /// root (node `count`, so `position` maps it to 0), whose successors
    /// are `rootTargets`.
    private static func semiNCADominators(_ graph: HeapGraph, rootTargets: [Int32]) -> [Int32] {
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
        return result
    }
}
