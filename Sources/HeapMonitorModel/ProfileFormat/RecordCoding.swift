/// The encodings shared by profile records and by the results an isolated
/// analysis sends back from its child: referent trees, the objects of a
/// snapshot, leak reports.
extension ByteEncoder {
    /// A referent tree node and its referents, depth first.
    package mutating func node(_ node: SizedNode) {
        string(node.name)
        string(node.typeName)
        varint(node.size)
        varint(node.flatSize)
        byte(node.isOpaque ? 1 : 0)
        varint(node.referents.count)
        for referent in node.referents { self.node(referent) }
    }

    /// A snapshot's object sizes, in id order (ids as steps from the last).
    package mutating func objectSizes(_ objects: [Snapshot.ObjectSize]) {
        objectSizes(count: objects.count) { objects[$0] }
    }

    /// A snapshot's object sizes, read from its arrays.
    package mutating func objectSizes(of snapshot: Snapshot) {
        objectSizes(count: snapshot.objectIDs.count) { snapshot.objects[$0] }
    }

    private mutating func objectSizes(count: Int, _ objectAt: (Int) -> Snapshot.ObjectSize) {
        varint(count)
        var previous = -1
        for position in 0..<count {
            let object = objectAt(position)
            varint(object.object - previous - 1)
            previous = object.object
            varint(object.size)
            varint(object.flatSize)
            varint(object.referents.count)
            for referent in object.referents { node(referent) }
        }
    }

    /// A leak report: the counts, then each cycle's objects and edges.
    /// Census rows: count, then name, live count, live bytes, allocations.
    package mutating func census(_ entries: [CensusEntry]) {
        varint(entries.count)
        for entry in entries {
            string(entry.className)
            varint(entry.liveCount)
            varint(entry.liveBytes)
            varint(entry.allocations)
        }
    }

    package mutating func leakReport(_ report: LeakReport) {
        varint(report.objectsScanned)
        varint(report.graphNodes)
        varint(report.cycles.count)
        for cycle in report.cycles {
            varint(cycle.bytes)
            varint(cycle.objects.count)
            for object in cycle.objects {
                string(object.typeName)
                varint(UInt64(object.address))
                varint(object.size)
            }
            varint(cycle.edges.count)
            for edge in cycle.edges {
                varint(edge.from)
                varint(edge.to)
                string(edge.path)
            }
        }
    }
}

extension ByteDecoder {
    /// What `ByteEncoder.node` wrote; nesting is bounded.
    package mutating func node(depth: Int = 1) throws(ProfileError.Problem) -> SizedNode {
        guard depth <= ProfileFormat.maximumTreeDepth else { throw .malformed("a referent tree is nested too deep") }
        let name = try string(), typeName = try string()
        let size = try int("size"), flat = try int("flat size")
        let opaque = try byte() != 0
        let count = try count(of: "referents", minimumBytes: 6)
        var referents: [SizedNode] = []
        for _ in 0..<count { referents.append(try node(depth: depth + 1)) }
        return SizedNode(
            name: name, typeName: typeName, size: size, flatSize: flat, referents: referents,
            isOpaque: opaque)
    }

    /// What `ByteEncoder.objectSizes` wrote, one object at a time; ids are
    /// below `idLimit`.
    package mutating func objectSizes(
        idLimit: Int,
        _ body: (Snapshot.ObjectSize) throws(ProfileError.Problem) -> Void
    )
        throws(ProfileError.Problem)
    {
        let objects = try count(of: "sized objects", minimumBytes: 4)
        var previous = -1
        for _ in 0..<objects {
            let id = previous + 1 + (try int(max: idLimit, "object id step"))
            guard id < idLimit else { throw .malformed("a snapshot names object \(id) of \(idLimit)") }
            previous = id
            var object = Snapshot.ObjectSize(object: id, size: try int("size"), flatSize: try int("flat size"))
            let referents = try count(of: "referents", minimumBytes: 6)
            for _ in 0..<referents { object.referents.append(try node()) }
            try body(object)
        }
    }

    /// What `ByteEncoder.leakReport` wrote.
    /// What `ByteEncoder.census(_:)` wrote.
    package mutating func census() throws(ProfileError.Problem) -> [CensusEntry] {
        let count = try count(of: "census rows", minimumBytes: 4)
        var entries: [CensusEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            entries.append(
                CensusEntry(
                    className: try string(), liveCount: try int("live count"),
                    liveBytes: try int("live bytes"), allocations: try int("allocations")))
        }
        return entries
    }

    package mutating func leakReport() throws(ProfileError.Problem) -> LeakReport {
        let scanned = try int("objects scanned"), nodes = try int("graph nodes")
        var cycles: [LeakedCycle] = []
        for _ in 0..<(try count(of: "cycles", minimumBytes: 3)) {
            let bytes = try int("bytes")
            var objects: [LeakedObject] = []
            for _ in 0..<(try count(of: "cycle objects", minimumBytes: 3)) {
                objects.append(LeakedObject(typeName: try string(), address: UInt(try varint()), size: try int("size")))
            }
            var edges: [LeakedEdge] = []
            for _ in 0..<(try count(of: "cycle edges", minimumBytes: 3)) {
                let from = try int(max: objects.count - 1, "edge start")
                let to = try int(max: objects.count - 1, "edge end")
                edges.append(LeakedEdge(from: from, to: to, path: try string()))
            }
            cycles.append(LeakedCycle(objects: objects, edges: edges, bytes: bytes))
        }
        return LeakReport(cycles: cycles, objectsScanned: scanned, graphNodes: nodes)
    }
}

extension ByteEncoder {
    /// A time on the monitor's clock as nanoseconds (0 before the origin).
    package mutating func duration(_ value: Duration) { varint(UInt64(max(0, value.nanoseconds))) }

    /// Virtual, resident and allocator bytes.
    package mutating func memory(_ memory: ProcessMemory) {
        varint(memory.virtualBytes)
        varint(memory.residentBytes)
        varint(memory.allocatorBytes)
    }
}

extension ByteDecoder {
    /// What `ByteEncoder.duration(_:)` wrote.
    package mutating func duration() throws(ProfileError.Problem) -> Duration {
        .nanoseconds(Int64(clamping: try varint()))
    }

    /// What `ByteEncoder.memory(_:)` wrote.
    package mutating func memory() throws(ProfileError.Problem) -> ProcessMemory {
        ProcessMemory(
            virtualBytes: try int("virtual bytes"), residentBytes: try int("resident bytes"),
            allocatorBytes: try int("allocator bytes"))
    }
}
