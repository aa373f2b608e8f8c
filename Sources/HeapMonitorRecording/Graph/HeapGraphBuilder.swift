import CHeapMonitor
import HeapMonitorModel

@_silgen_name("swift_retainCount")
private func swiftRetainCount(_ object: UnsafeMutableRawPointer) -> Int

/// Where roots may live, read in the host before an analysis forks: the
/// loader's list of images and /proc belong to the host's threads.
struct RootRanges {
    /// Writable segments of every image: globals and statics.
    var segments: [hm_range] = []
    /// Threads' stacks, live part only.
    var stacks: [hm_thread_stack] = []

    /// The ranges as they are now.
    static func current() -> RootRanges {
        var ranges = RootRanges()
        ranges.segments = read(hm_writable_segments)
        ranges.stacks = read(hm_thread_stacks)
        return ranges
    }

    /// Asks `source` for its entries, again with more room if it had more.
    private static func read<Entry>(_ source: (UnsafeMutablePointer<Entry>?, Int) -> Int) -> [Entry] {
        var capacity = 64
        while true {
            let buffer = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
            defer { buffer.deallocate() }
            let count = source(buffer, capacity)
            if count <= capacity { return Array(UnsafeBufferPointer(start: buffer, count: count)) }
            capacity = count + 16
        }
    }
}

/// Builds a `HeapGraph` from the watched and tracked objects: their strong
/// references, labelled, into every heap object between them; the objects
/// between the globals and them; and the roots — globals (named later, in the
/// host, from their addresses), stack words equal to a node's address, and
/// strong counts that neither explains ("held from outside").
///
/// Runs where the heap cannot change: in a forked child, or where the
/// caller knows nothing else runs. Every object is checked before it is read.
struct HeapGraphBuilder: ~Copyable {
    private var labeler: EdgeLabeler
    private(set) var graph = HeapGraph()
    private var index = AddressMap()
    private var typeIndex: [UInt: Int] = [:]
    private var lastType: (metadata: UnsafeRawPointer?, index: Int) = (nil, 0)
    private var labelIndex: [String: Int] = [:]
    private var elementLabels: [Int] = []
    /// Label numbers by node type and field index, for the node expanded.
    private var fieldLabels: [[Int]] = []
    private var strongCounts: [Int] = []
    /// Leaf blocks already counted into a node's bytes.
    private var leaves = AddressSet()
    /// Nodes numbered but not yet expanded start here.
    private var next = 0
    /// Nodes from here on are holders, between a global and the watched
    /// objects (`addHolders`): through them only containers join the graph,
    /// so that a store brings in its dictionary but not all it refers to.
    private var containersOnlyFrom = Int.max

    init(layouts: LayoutBuilder?) {
        labeler = EdgeLabeler(engine: SizingEngine(checkingAddresses: true, layouts: layouts))
    }

    /// The layouts built, to keep for the next analysis.
    var layouts: LayoutBuilder { labeler.engine.layouts }

    /// The whole graph of `candidates` with the roots found in `ranges`.
    static func build(candidates: [UInt], ranges: RootRanges, layouts: LayoutBuilder?) -> HeapGraph {
        var builder = HeapGraphBuilder(layouts: layouts)
        // Containers add about half as many nodes again.
        builder.index.reserveCapacity(candidates.count + candidates.count / 2)
        for address in candidates where builder.labeler.engine.isLiveObject(address) { _ = builder.add(address) }
        builder.graph.watchedCount = builder.graph.count
        builder.expand()
        builder.containersOnlyFrom = builder.graph.count
        var globalReferences = [Int32: Int]()
        builder.scanGlobals(ranges.segments, counting: &globalReferences)
        builder.addWeakEdges()
        let onStacks = builder.scanStacks(ranges.stacks)
        builder.addOutsideRoot(globalReferences: globalReferences, onStacks: onStacks)
        return builder.graph
    }

    // MARK: Nodes and edges

    private mutating func add(_ address: UInt) -> Int32 {
        if let known = index.insert(Int32(graph.count), for: address) { return known }
        let object = HeapObject(UnsafeRawPointer(bitPattern: address)!)
        let node = graph.addNode(typeName: type(of: object.metadata), bytes: object.allocatedBytes, address: address)
        strongCounts.append(swiftRetainCount(UnsafeMutableRawPointer(bitPattern: address)!))
        return Int32(node)
    }

    /// The graph's number for `metadata`'s type, named at its first node.
    private mutating func type(of metadata: Metadata) -> Int {
        // Objects of one type come in runs: the last one is kept apart.
        if metadata.pointer == lastType.metadata { return lastType.index }
        let type: Int
        if let known = typeIndex[UInt(bitPattern: metadata.pointer)] {
            type = known
        } else {
            let layout = labeler.engine.objectLayout(metadata)
            type = graph.typeNames.count
            graph.typeNames.append(labeler.engine.displayName(of: layout))
            typeIndex[UInt(bitPattern: metadata.pointer)] = type
        }
        lastType = (metadata.pointer, type)
        return type
    }

    /// Gives every node not yet expanded its edges, in node order, adding
    /// the objects they lead to.
    private mutating func expand() {
        var references: [(target: UInt, place: EdgeLabeler.Place)] = []
        while next < graph.count {
            // Nodes are expanded in order: the header and first fields of
            // one a few ahead are fetched while this one is read.
            if next + 8 < graph.count {
                let ahead = graph.addresses[next + 8]
                hm_prefetch(UnsafeRawPointer(bitPattern: ahead))
                hm_prefetch(UnsafeRawPointer(bitPattern: ahead + 56))
            }
            references.removeAll(keepingCapacity: true)
            labeler.references(of: graph.addresses[next], into: &references)
            var leafBytes = 0
            for (target, place) in references {
                // A node was checked when it was added.
                if let known = index[target] {
                    graph.addEdge(to: Int(known), label: label(place))
                    continue
                }
                guard labeler.engine.isReadableObject(target) else { continue }
                let object = HeapObject(UnsafeRawPointer(bitPattern: target)!)
                if object.isImmortal { continue }
                let node: Int32
                if labeler.engine.mayHoldReferences(object),
                    next < containersOnlyFrom || isContainer(target)
                {
                    node = add(target)
                } else {
                    if leaves.insert(target) { leafBytes += object.allocatedBytes }
                    continue
                }
                graph.addEdge(to: Int(node), label: label(place))
            }
            graph.nodeBytes[next] = graph.nodeBytes[next] &+ UInt32(clamping: leafBytes)
            graph.closeEdges()
            next += 1
        }
    }

    private mutating func label(_ place: EdgeLabeler.Place) -> Int {
        if case .element(let position) = place, position < 1 << 16 {
            while elementLabels.count <= position { elementLabels.append(-1) }
            if elementLabels[position] < 0 { elementLabels[position] = intern("[\(position)]") }
            return elementLabels[position]
        }
        switch place {
        case .field(let field):
            // Per type and field: interning a string per edge costs a hash.
            let type = Int(graph.nodeTypes[next])
            while fieldLabels.count <= type { fieldLabels.append([]) }
            while fieldLabels[type].count <= field { fieldLabels[type].append(-1) }
            if fieldLabels[type][field] < 0 {
                fieldLabels[type][field] = intern(labeler.name(of: place, in: graph.addresses[next]))
            }
            return fieldLabels[type][field]
        default: return intern(labeler.name(of: place, in: graph.addresses[next]))
        }
    }

    private mutating func intern(_ label: String) -> Int {
        if let known = labelIndex[label] { return known }
        graph.labels.append(label)
        labelIndex[label] = graph.labels.count - 1
        return graph.labels.count - 1
    }

    // MARK: Roots

    /// Words of the writable segments that are node addresses, once the
    /// objects between the globals and the nodes have joined the graph
    /// (`addHolders`). One root a word; the host merges the words of one
    /// symbol.
    private mutating func scanGlobals(_ segments: [hm_range], counting references: inout [Int32: Int]) {
        var globals: [(word: UInt, value: UInt)] = []
        for segment in segments {
            var word = segment.start
            while word < segment.end {
                defer { word += 8 }
                let value = UnsafeRawPointer(bitPattern: word)!.load(as: UInt.self)
                if HeapObject.isPlausible(value) { globals.append((word, value)) }
            }
        }
        addHolders(from: globals.map(\.value))
        for (word, value) in globals {
            guard let node = index[value] else { continue }
            references[node, default: 0] += 1
            graph.roots.append(HeapGraph.Root(kind: .global, name: "", targets: [node], address: word))
        }
    }

    /// Explores, breadth first, the objects that `starts` (words of the
    /// globals) reach without passing through a node, and adds to the
    /// graph those on the way to one: a store holding watched sessions, a
    /// dictionary between them. Objects that lead to no node (a library's
    /// caches, the monitor's own state) stay out.
    private mutating func addHolders(from starts: [UInt]) {
        var explored: [UInt] = [], parents: [Int32] = []
        var seen = AddressMap()
        func visit(_ builder: inout HeapGraphBuilder, _ address: UInt, from parent: Int32) {
            guard seen[address] == nil, builder.index[address] == nil else { return }
            seen[address] = Int32(explored.count)
            // A global's word may be anything; a reference from an object
            // already proven live is one.
            guard builder.labeler.engine.isLiveObject(address, conservative: parent < 0) else { return }
            let object = HeapObject(UnsafeRawPointer(bitPattern: address)!)
            guard !object.isImmortal, builder.labeler.engine.mayHoldReferences(object) else { return }
            explored.append(address)
            parents.append(parent)
        }
        for start in starts { visit(&self, start, from: -1) }
        var references: [(target: UInt, place: EdgeLabeler.Place)] = []
        var onTheWay = [Bool](), head = 0
        while head < explored.count {
            references.removeAll(keepingCapacity: true)
            labeler.references(of: explored[head], into: &references)
            var leads = false
            for (target, _) in references {
                if index[target] != nil { leads = true } else { visit(&self, target, from: Int32(head)) }
            }
            onTheWay.append(false)
            if leads {
                var step = Int32(head)
                while step >= 0, !onTheWay[Int(step)] {
                    onTheWay[Int(step)] = true
                    step = parents[Int(step)]
                }
            }
            head += 1
        }
        // Breadth-first order puts each holder after the one it was reached
        // from: paths read from the global down.
        for position in explored.indices where onTheWay[position] { _ = add(explored[position]) }
        expand()
    }

    /// The weak and unowned references between nodes, once all are known:
    /// recorded so that reports can show them, never holding anything.
    private mutating func addWeakEdges() {
        // Per type, looked up at its first node: most types have none.
        var weakFieldsByType = [[WeakFieldLayout]?](repeating: nil, count: graph.typeNames.count)
        for node in 0..<graph.count {
            let type = Int(graph.nodeTypes[node])
            let object = UnsafeRawPointer(bitPattern: graph.addresses[node])!
            if weakFieldsByType[type] == nil {
                weakFieldsByType[type] = labeler.engine.objectLayout(HeapObject(object).metadata).weakFields
            }
            for field in weakFieldsByType[type]! {
                let word = object.load(fromByteOffset: field.offset, as: UInt.self)
                guard let target = weakTarget(of: word, field.ownership), let to = index[target] else { continue }
                graph.weakEdges.append(
                    HeapGraph.WeakEdge(from: Int32(node), to: to, label: Int32(intern(field.name))))
            }
        }
    }

    /// The object a weak or unowned reference's word refers to. A weak
    /// reference holds the object's side table, whose first word is the
    /// object; the object's count bits point back to that table.
    private mutating func weakTarget(of word: UInt, _ ownership: ReferenceOwnership) -> UInt? {
        guard ownership == .weak else { return word }
        let entry = word & 0x0000_7FFF_FFFF_FFF8
        guard entry != 0, labeler.engine.isReadableObject(entry) else { return nil }
        let target = UnsafeRawPointer(bitPattern: entry)!.load(as: UInt.self)
        guard index[target] != nil,
            HeapObject(UnsafeRawPointer(bitPattern: target)!).sideTable == UnsafeRawPointer(bitPattern: entry)
        else { return nil }
        return target
    }

    private mutating func isContainer(_ address: UInt) -> Bool {
        guard labeler.engine.isLiveObject(address) else { return false }
        let object = HeapObject(UnsafeRawPointer(bitPattern: address)!)
        guard !object.isImmortal, labeler.engine.mayHoldReferences(object) else { return false }
        switch labeler.engine.objectLayout(object.metadata).shape {
        case .arrayStorage, .dictionaryStorage, .setStorage, .hashTrieNode, .captures, .errorBox: return true
        case .plain, .ownedBuffer: return false
        }
    }

    /// A root a thread whose stack holds node addresses; the nodes found.
    private mutating func scanStacks(_ stacks: [hm_thread_stack]) -> Set<Int32> {
        var found = Set<Int32>()
        for var stack in stacks {
            var targets: [Int32] = []
            var seen = Set<Int32>()
            var word = stack.start
            while word < stack.end {
                defer { word += 8 }
                let value = UnsafeRawPointer(bitPattern: word)!.load(as: UInt.self)
                if let node = index[value], seen.insert(node).inserted { targets.append(node) }
            }
            guard !targets.isEmpty else { continue }
            found.formUnion(targets)
            let name = withUnsafeBytes(of: &stack.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            graph.roots.append(
                HeapGraph.Root(
                    kind: .stack, name: "thread \(stack.tid)" + (name.isEmpty ? "" : " (\(name))"),
                    targets: targets.sorted()))
        }
        return found
    }

    /// Nodes with strong references that no edge, global or stack explains.
    private mutating func addOutsideRoot(globalReferences: [Int32: Int], onStacks: Set<Int32>) {
        var unexplained = strongCounts
        for target in graph.edgeTargets { unexplained[Int(target)] -= 1 }
        for (node, count) in globalReferences { unexplained[Int(node)] -= count }
        let targets = (0..<graph.count).filter { unexplained[$0] > 0 && !onStacks.contains(Int32($0)) }
        guard !targets.isEmpty else { return }
        graph.roots.append(HeapGraph.Root(kind: .outside, name: "held from outside", targets: targets.map(Int32.init)))
    }
}
