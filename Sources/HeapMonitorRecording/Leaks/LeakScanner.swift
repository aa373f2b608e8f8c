/// Finds strong reference cycles that nothing outside them holds any more,
/// by CPython's method: from each node's strong count subtract the
/// references that come from inside the graph; a node with references left
/// is held from outside (a variable, a global, C memory) and is alive, with
/// everything it reaches. The rest is garbage; its strongly connected
/// components with an internal edge are the leaked cycles.
///
/// Errs on "alive": a node whose count is smaller than the references found
/// to it (something was misread) counts as held from outside, and objects
/// whose contents cannot be read exactly hold nothing in the graph, so what
/// they point to looks held from outside.
struct LeakScanner {
    let graph: ObjectGraph

    /// Nodes that are garbage.
    func garbage() -> [Bool] {
        let count = graph.count
        var alive = [Bool](repeating: false, count: count)
        graph.targets.withUnsafeBufferPointer { targets in
            graph.edgeStart.withUnsafeBufferPointer { starts in
                var outside = graph.strongCounts
                outside.withUnsafeMutableBufferPointer { outside in
                    for target in targets { outside[Int(target)] -= 1 }
                    alive.withUnsafeMutableBufferPointer { alive in
                        var stack: [Int32] = []
                        for node in 0..<count where outside[node] != 0 {
                            alive[node] = true
                            stack.append(Int32(node))
                        }
                        while let node = stack.popLast() {
                            for edge in starts[Int(node)]..<starts[Int(node) + 1] {
                                let target = Int(targets[edge])
                                if !alive[target] {
                                    alive[target] = true
                                    stack.append(Int32(target))
                                }
                            }
                        }
                    }
                }
            }
        }
        return alive.map { !$0 }
    }

    /// The leaked cycles: strongly connected components of garbage nodes
    /// that contain an edge (two or more nodes, or one referencing itself).
    func cycles(garbage: [Bool]) -> [[Int]] {
        // Iterative Tarjan over the garbage subgraph.
        var indexOf = [Int](repeating: -1, count: graph.count)
        var lowlink = [Int](repeating: 0, count: graph.count)
        var onStack = [Bool](repeating: false, count: graph.count)
        var stack: [Int] = []
        var components: [[Int]] = []
        var counter = 0
        for root in 0..<graph.count where garbage[root] && indexOf[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, graph.edgeStart[root])]
            indexOf[root] = counter; lowlink[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while var frame = work.popLast() {
                let end = graph.edgeStart[frame.node + 1]
                var descended = false
                while frame.edge < end {
                    let target = Int(graph.targets[frame.edge])
                    frame.edge += 1
                    guard garbage[target] else { continue }
                    if indexOf[target] < 0 {
                        indexOf[target] = counter; lowlink[target] = counter; counter += 1
                        stack.append(target); onStack[target] = true
                        work.append(frame)
                        work.append((target, graph.edgeStart[target]))
                        descended = true
                        break
                    } else if onStack[target] {
                        lowlink[frame.node] = min(lowlink[frame.node], indexOf[target])
                    }
                }
                if descended { continue }
                if lowlink[frame.node] == indexOf[frame.node] {
                    var component: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component.append(member)
                        if member == frame.node { break }
                    }
                    let node = component[0]
                    if component.count > 1 || graph.edges(of: node).contains(Int32(node)) {
                        components.append(component.reversed())
                    }
                }
                if let parent = work.last?.node { lowlink[parent] = min(lowlink[parent], lowlink[frame.node]) }
            }
        }
        return components
    }
}
