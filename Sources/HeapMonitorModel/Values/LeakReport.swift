/// The strong reference cycles found leaked: held only from inside
/// themselves, so ARC will never free them.
public struct LeakReport: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The cycles, the most bytes first.
    public var cycles: [LeakedCycle]
    /// Objects the scan looked at (watched and tracked ones alive).
    public var objectsScanned: Int
    /// Heap objects in the reference graph (scanned ones and the storage,
    /// closure contexts and boxes between them).
    public var graphNodes: Int

    /// A report of `cycles` found among `objectsScanned` objects and
    /// `graphNodes` heap objects in all.
    public init(cycles: [LeakedCycle], objectsScanned: Int, graphNodes: Int) {
        self.cycles = cycles
        self.objectsScanned = objectsScanned
        self.graphNodes = graphNodes
    }

    /// Bytes the cycles keep alive.
    public var leakedBytes: Int { cycles.reduce(0) { $0 + $1.bytes } }

    /// A line per shape of cycle (count, walk, bytes), then the objects of
    /// its largest cycle.
    public var description: String {
        guard !cycles.isEmpty else { return "no leaked cycles (\(counted(objectsScanned, "object")) scanned)" }
        let groups = self.groups
        var lines = [
            "\(counted(cycles.count, "leaked cycle")) of \(counted(groups.count, "shape")), "
                + "\(ByteCount.format(leakedBytes)) (\(counted(objectsScanned, "object")) scanned)"
        ]
        for group in groups {
            lines.append(group.summary)
            let cycle = group.example
            if group.count > 1 { lines.append("  the largest, \(ByteCount.format(cycle.bytes)): \(cycle.path)") }
            for object in cycle.objects {
                lines.append(
                    "  \(object.typeName) at 0x\(String(object.address, radix: 16)), \(ByteCount.format(object.size))")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// One leaked cycle.
public struct LeakedCycle: Hashable, Sendable, Codable {
    /// Its objects — classes' instances; the storage, closure contexts and
    /// boxes between them appear in the edges' paths, not here.
    public var objects: [LeakedObject]
    /// The references between the objects, with field paths.
    public var edges: [LeakedEdge]
    /// Bytes the cycle keeps alive: its objects, what sits between them, and
    /// what only they hold.
    public var bytes: Int

    /// A cycle of `objects` joined by `edges`, keeping `bytes` alive.
    public init(objects: [LeakedObject], edges: [LeakedEdge], bytes: Int) {
        self.objects = objects
        self.edges = edges
        self.bytes = bytes
    }

    /// The cycle as one walk: `Parent.children[3] → Child.parent → Parent`.
    public var path: String {
        guard let first = edges.first else { return objects.first?.typeName ?? "" }
        var text = shortClassName(objects[first.from].typeName)
        var current = first.from
        var used = Set<Int>()
        for _ in 0..<edges.count {
            guard let index = edges.indices.first(where: { !used.contains($0) && edges[$0].from == current }) else {
                break
            }
            used.insert(index)
            let edge = edges[index]
            text += "." + edge.path + " → " + shortClassName(objects[edge.to].typeName)
            current = edge.to
            if current == first.from { break }
        }
        return text
    }
}

/// An object in a leaked cycle.
public struct LeakedObject: Hashable, Sendable, Codable {
    /// Its class, fully qualified.
    public var typeName: String
    /// Where it lives.
    public var address: UInt
    /// Its heap block.
    public var size: Int

    /// An object of class `typeName` at `address`, its block `size` bytes.
    public init(typeName: String, address: UInt, size: Int) {
        self.typeName = typeName
        self.address = address
        self.size = size
    }
}

/// A reference from one object of a cycle to another.
public struct LeakedEdge: Hashable, Sendable, Codable {
    /// Index into the cycle's objects of the object holding the reference.
    public var from: Int
    /// Index into the cycle's objects of the object referenced.
    public var to: Int
    /// The field path from `from` to `to`: `children[3]`, `handler.capture self`, `next`.
    public var path: String

    /// A reference from object `from` to object `to` through `path`.
    public init(from: Int, to: Int, path: String) {
        self.from = from
        self.to = to
        self.path = path
    }
}
