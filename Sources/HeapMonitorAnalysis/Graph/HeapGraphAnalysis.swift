import HeapMonitorModel

/// A heap graph with its dominator tree: the questions "who holds it" and
/// "what would going free" answered per object and per class.
///
/// ```swift
/// let analysis = HeapGraphAnalysis(profile.heapGraphs.last!.graph)
/// for group in analysis.retainers(ofClass: "App.Session") {
///     print("\(group.count) kept by \(group.path)")
/// }
/// ```
public struct HeapGraphAnalysis: Sendable {
    /// The graph analysed.
    public let graph: HeapGraph
    /// Its dominator tree, retained sizes and shortest root paths.
    public let tree: DominatorTree

    /// Analyses `graph`.
    public init(_ graph: HeapGraph) {
        self.graph = graph
        tree = DominatorTree(graph)
    }

    /// Bytes of every node.
    public var totalBytes: Int { graph.nodeBytes.reduce(0) { $0 + Int($1) } }

    /// Whether `node` is a watched or tracked object (not storage, a box
    /// or a closure context between them).
    public func isObject(_ node: Int) -> Bool { node < graph.watchedCount }

    /// The nodes whose type is `name`: a full name (`App.Session`), or the
    /// name without its module (`Session`).
    public func nodes(ofClass name: String) -> [Int] {
        let types = Set(graph.typeNames.indices.filter { Self.matches(graph.typeNames[$0], name) }.map(Int32.init))
        return (0..<graph.count).filter { types.contains(graph.nodeTypes[$0]) }
    }

    static func matches(_ typeName: String, _ name: String) -> Bool {
        typeName == name || typeName.hasSuffix("." + name) || shortClassName(typeName) == name
    }

    // MARK: Paths

    /// The shortest path from a root to `node`, spelled with field paths:
    /// `App.SessionStore.shared → sessions["s42"]` (the inner nodes of a
    /// persistent collection left out). With `grouped`,
    /// element and key labels become `[…]`, so that the paths to a class's
    /// instances fall into a few groups. Nil when no root reaches `node`.
    public func path(to node: Int, grouped: Bool = false) -> String? {
        guard let (root, edges) = tree.shortestPath(to: node) else { return nil }
        var text = graph.roots[root].name
        var source = Int(graph.roots[root].targets.first ?? 0)
        if let first = edges.first { source = Self.source(ofEdge: first, in: graph) }
        let start = source
        for edge in edges {
            source = Self.source(ofEdge: edge, in: graph)
            var label = graph.label(ofEdge: edge)
            // A hop inside one collection's structure (a trie's inner
            // node) says nothing a reader of the source would write.
            if label.isEmpty { continue }
            if grouped, label.hasPrefix("[") { label = label.hasSuffix("].key") ? "[…].key" : "[…]" }
            if label.hasPrefix("[") {
                text += label
            } else if source == start {
                text += " → " + label
            } else if isObject(source) {
                text += " → " + shortClassName(graph.typeName(of: source)) + "." + label
            } else {
                text += "." + label
            }
        }
        return text
    }

    /// The shortest path from a root to `node` step by step: the root, then
    /// each edge's label and the node it reaches. Empty when no root
    /// reaches `node`.
    public func steps(to node: Int) -> [PathStep] {
        guard let (root, edges) = tree.shortestPath(to: node) else { return [] }
        let holder = graph.roots[root]
        var current = edges.first.map { Self.source(ofEdge: $0, in: graph) } ?? node
        var steps = [
            PathStep(
                label: "\(holder.name) (\(holder.kind.word))", node: current, typeName: graph.typeName(of: current))
        ]
        for edge in edges {
            current = graph.target(ofEdge: edge)
            let label = graph.label(ofEdge: edge)
            steps.append(PathStep(label: label, node: current, typeName: graph.typeName(of: current)))
        }
        return steps
    }

    /// The weak and unowned references to `node`: each referrer, with the
    /// field that holds the reference. They keep nothing alive.
    public func weakReferrers(of node: Int) -> [PathStep] {
        graph.weakEdges.filter { Int($0.to) == node }.map { edge in
            PathStep(
                label: graph.labels[Int(edge.label)], node: Int(edge.from),
                typeName: graph.typeName(of: Int(edge.from)))
        }
    }

    /// A step of a path from a root.
    public struct PathStep: Hashable, Sendable, Codable {
        /// The field path taken (the root's name for the first step).
        public var label: String
        /// The node reached.
        public var node: Int
        /// Its type.
        public var typeName: String
    }

    /// Where each edge starts, found by a binary search of `edgeStart`.
    static func source(ofEdge edge: Int, in graph: HeapGraph) -> Int {
        var low = 0, high = graph.count
        while low + 1 < high {
            let middle = (low + high) / 2
            if Int(graph.edgeStart[middle]) <= edge { low = middle } else { high = middle }
        }
        return low
    }

    /// The instances of a class, grouped by the path that keeps them: the
    /// most instances first.
    public func retainers(ofClass name: String) -> [RetainerGroup] {
        var groups: [String: RetainerGroup] = [:]
        for node in nodes(ofClass: name) {
            let path = self.path(to: node, grouped: true) ?? "no root (garbage or unexplained)"
            groups[path, default: RetainerGroup(path: path, count: 0, bytes: 0)].count += 1
            groups[path]!.bytes += tree.retainedBytes(of: node)
        }
        return groups.values.sorted { ($1.count, $1.bytes, $0.path) < ($0.count, $0.bytes, $1.path) }
    }

    // MARK: Dominators

    /// The nodes that retain the most, with what they retain, largest
    /// first: the objects users think in, and storage only where no object
    /// dominates it.
    public func dominators(limit: Int = 20) -> [DominatorRow] {
        // Storage, boxes and contexts count in their holder's row; those no
        // object dominates (held from several roots) get rows of their own.
        var candidates = (0..<graph.count).filter {
            tree.isReachable($0) && (isObject($0) || holder(of: $0) == nil)
        }
        candidates.sort { (tree.retainedBytes(of: $1), $0) < (tree.retainedBytes(of: $0), $1) }
        return candidates.prefix(limit).map(row)
    }

    /// One node's row.
    public func row(_ node: Int) -> DominatorRow {
        let dominator = tree.immediateDominator(of: node)
        return DominatorRow(
            node: node, typeName: graph.typeName(of: node), address: graph.addresses[node],
            bytes: Int(graph.nodeBytes[node]), retainedBytes: tree.retainedBytes(of: node),
            dominator: dominator == tree.virtualRoot ? nil : dominator,
            path: path(to: node))
    }

    /// The nearest object (not storage, a box or a context) dominating
    /// `node`, or nil when only roots do.
    public func holder(of node: Int) -> Int? {
        var current = tree.immediateDominator(of: node)
        while let next = current, next != tree.virtualRoot {
            if isObject(next) { return next }
            current = tree.immediateDominator(of: next)
        }
        return nil
    }

    /// Per class: instances, their own bytes, and what they retain — the
    /// instances not dominated by a nearer instance of the same class, so
    /// that a list's or tree's nodes are counted once. Largest first.
    public func classes() -> [ClassRetention] {
        var rows: [Int32: ClassRetention] = [:]
        for node in 0..<graph.count {
            let type = graph.nodeTypes[node]
            rows[type, default: ClassRetention(typeName: graph.typeNames[Int(type)])].instances += 1
            rows[type]!.bytes += Int(graph.nodeBytes[node])
            if let holder = holder(of: node), graph.nodeTypes[holder] == type { continue }
            rows[type]!.retainedBytes += tree.retainedBytes(of: node)
        }
        return rows.values.sorted { ($1.retainedBytes, $0.typeName) < ($0.retainedBytes, $1.typeName) }
    }
}

/// Instances of a class kept alive along one path from a root.
public struct RetainerGroup: Hashable, Sendable, Codable {
    /// The path, element and key labels as `[…]`:
    /// `App.SessionStore.shared → sessions[…]`.
    public var path: String
    /// Instances kept along it.
    public var count: Int
    /// Bytes they retain.
    public var bytes: Int
}

/// A node of the dominator tree with its retained size.
public struct DominatorRow: Hashable, Sendable, Codable {
    /// Its number in the graph (`heapmonitor retainers --id`).
    public var node: Int
    /// Its type.
    public var typeName: String
    /// Its address in the process.
    public var address: UInt
    /// Its own bytes.
    public var bytes: Int
    /// What would be freed if it went.
    public var retainedBytes: Int
    /// Its immediate dominator, nil when only roots dominate it.
    public var dominator: Int?
    /// The shortest path from a root to it.
    public var path: String?
}

/// A class's instances and what they retain.
public struct ClassRetention: Hashable, Sendable, Codable {
    /// The class.
    public var typeName: String
    /// Its instances in the graph.
    public var instances = 0
    /// Their own bytes.
    public var bytes = 0
    /// What they retain, counted once.
    public var retainedBytes = 0
}

extension HeapGraph.Root.Kind {
    /// How reports name the kind.
    public var word: String {
        switch self {
        case .global: return "global"
        case .stack: return "stack, conservative"
        case .outside: return "from outside the graph"
        }
    }
}
