/// The heap-graph encoding (docs/ProfileFormat.md, record kind 8): tables
/// of type names and labels, then nodes, each followed by its edges, whose
/// targets are written as steps from the node so that the usual short
/// references take a byte or two.
extension ByteEncoder {
    package mutating func heapGraph(_ graph: HeapGraph) {
        varint(graph.typeNames.count)
        for name in graph.typeNames { string(name) }
        varint(graph.labels.count)
        for label in graph.labels { string(label) }
        varint(graph.count)
        varint(graph.watchedCount)
        var previousAddress: UInt = 0
        for node in 0..<graph.count {
            varint(Int(graph.nodeTypes[node]))
            varint(Int(graph.nodeBytes[node]))
            signed(Int64(bitPattern: UInt64(graph.addresses[node] &- previousAddress)))
            previousAddress = graph.addresses[node]
            let edges = graph.edges(of: node)
            varint(edges.count)
            for edge in edges {
                signed(Int64(graph.edgeTargets[edge]) - Int64(node))
                varint(Int(graph.edgeLabels[edge]))
            }
        }
        varint(graph.weakEdges.count)
        for edge in graph.weakEdges {
            varint(Int(edge.from))
            varint(Int(edge.to))
            varint(Int(edge.label))
        }
        varint(graph.roots.count)
        for root in graph.roots {
            byte(root.kind.rawValue)
            string(root.name)
            varint(UInt64(root.address))
            varint(root.targets.count)
            var previous: Int64 = 0
            for target in root.targets {
                signed(Int64(target) - previous)
                previous = Int64(target)
            }
        }
    }

    /// A zigzag varint: small magnitudes of either sign are short.
    package mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
}

extension ByteDecoder {
    /// What `ByteEncoder.heapGraph` wrote. Every index is checked against
    /// its table and every count against the bytes left.
    package mutating func heapGraph() throws(ProfileError.Problem) -> HeapGraph {
        var graph = HeapGraph()
        for _ in 0..<(try count(of: "type names", minimumBytes: 1)) { graph.typeNames.append(try string()) }
        for _ in 0..<(try count(of: "labels", minimumBytes: 1)) { graph.labels.append(try string()) }
        let nodes = try count(of: "graph nodes", minimumBytes: 4)
        guard nodes < Int(Int32.max) else { throw .malformed("a heap graph has too many nodes") }
        graph.watchedCount = try int(max: nodes, "watched nodes")
        graph.nodeTypes.reserveCapacity(nodes)
        graph.nodeBytes.reserveCapacity(nodes)
        graph.addresses.reserveCapacity(nodes)
        var address: UInt = 0
        for node in 0..<nodes {
            graph.nodeTypes.append(Int32(try int(max: graph.typeNames.count - 1, "node type")))
            graph.nodeBytes.append(UInt32(try int(max: Int(UInt32.max), "node bytes")))
            address = address &+ UInt(bitPattern: Int(try signed()))
            graph.addresses.append(address)
            for _ in 0..<(try count(of: "edges", minimumBytes: 2)) {
                let target = Int64(node) &+ (try signed())
                guard target >= 0, target < nodes else {
                    throw .malformed("an edge leads to node \(target) of \(nodes)")
                }
                graph.edgeTargets.append(Int32(target))
                graph.edgeLabels.append(Int32(try int(max: graph.labels.count - 1, "edge label")))
            }
            guard graph.edgeTargets.count < Int(Int32.max) else { throw .malformed("a heap graph has too many edges") }
            graph.edgeStart.append(Int32(graph.edgeTargets.count))
        }
        for _ in 0..<(try count(of: "weak edges", minimumBytes: 3)) {
            graph.weakEdges.append(
                HeapGraph.WeakEdge(
                    from: Int32(try int(max: nodes - 1, "weak edge start")),
                    to: Int32(try int(max: nodes - 1, "weak edge end")),
                    label: Int32(try int(max: graph.labels.count - 1, "weak edge label"))))
        }
        for _ in 0..<(try count(of: "roots", minimumBytes: 4)) {
            let kindByte = try byte()
            guard let kind = HeapGraph.Root.Kind(rawValue: kindByte) else {
                throw .malformed("unknown root kind \(kindByte)")
            }
            var root = HeapGraph.Root(kind: kind, name: try string(), targets: [])
            root.address = UInt(try varint())
            var target: Int64 = 0
            for _ in 0..<(try count(of: "root targets", minimumBytes: 1)) {
                target = target &+ (try signed())
                guard target >= 0, target < nodes else { throw .malformed("a root holds node \(target) of \(nodes)") }
                root.targets.append(Int32(target))
            }
            graph.roots.append(root)
        }
        return graph
    }

    /// What `ByteEncoder.signed` wrote.
    package mutating func signed() throws(ProfileError.Problem) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
}
