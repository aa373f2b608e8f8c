/// The strong references between a process's heap objects at one instant,
/// with the roots that hold them: what "who holds it" is answered from.
///
/// Nodes are the watched and tracked objects and the heap objects between
/// them (array, dictionary and set storage, closure contexts, boxes), and
/// the containers that globals hold. Columns, not structs, so that a graph
/// of millions of objects stays compact:
///
/// ```swift
/// let graph = try Tracker.shared.captureHeapGraph()
/// for edge in graph.edges(of: 0) {
///     print(graph.label(ofEdge: edge), "→", graph.typeName(of: graph.target(ofEdge: edge)))
/// }
/// ```
public struct HeapGraph: Hashable, Sendable {
    /// Type names, indexed by `nodeTypes`.
    public var typeNames: [String] = []
    /// Edge labels (field paths), indexed by `edgeLabels`.
    public var labels: [String] = []
    /// Each node's index into `typeNames`.
    public var nodeTypes: [Int32] = []
    /// Each node's bytes: its heap block and the leaf blocks (string storage,
    /// arrays of plain values) first reached from it.
    public var nodeBytes: [UInt32] = []
    /// Each node's address in the process.
    public var addresses: [UInt] = []
    /// How many of the nodes, first, are watched or tracked objects.
    public var watchedCount = 0
    /// Node `n`'s strong edges are `edgeStart[n]..<edgeStart[n + 1]`.
    public var edgeStart: [Int32] = [0]
    /// Each strong edge's target node.
    public var edgeTargets: [Int32] = []
    /// Each strong edge's index into `labels`.
    public var edgeLabels: [Int32] = []
    /// Weak and unowned references between nodes: recorded, never holders.
    public var weakEdges: [WeakEdge] = []
    /// What holds the graph from outside the heap.
    public var roots: [Root] = []

    /// An empty graph.
    public init() {}

    /// Nodes in the graph.
    public var count: Int { nodeTypes.count }
    /// Strong edges in the graph.
    public var edgeCount: Int { edgeTargets.count }

    /// The strong edges (indices into `edgeTargets`) leaving `node`.
    @inlinable
    public func edges(of node: Int) -> Range<Int> { Int(edgeStart[node])..<Int(edgeStart[node + 1]) }
    /// The node an edge leads to.
    @inlinable
    public func target(ofEdge edge: Int) -> Int { Int(edgeTargets[edge]) }
    /// The field path of an edge: `sessions["s42"]`, `handler`, `[3]`.
    public func label(ofEdge edge: Int) -> String { labels[Int(edgeLabels[edge])] }
    /// The type of `node`, fully qualified.
    public func typeName(of node: Int) -> String { typeNames[Int(nodeTypes[node])] }

    /// Appends a node; returns its number.
    public mutating func addNode(typeName index: Int, bytes: Int, address: UInt) -> Int {
        nodeTypes.append(Int32(index))
        nodeBytes.append(UInt32(clamping: bytes))
        addresses.append(address)
        return nodeTypes.count - 1
    }

    /// Appends an edge from the last node whose edges are open (nodes get
    /// their edges in order; `closeEdges()` ends a node's list).
    public mutating func addEdge(to target: Int, label: Int) {
        edgeTargets.append(Int32(target))
        edgeLabels.append(Int32(label))
    }

    /// Ends the edge list of the next node.
    public mutating func closeEdges() { edgeStart.append(Int32(edgeTargets.count)) }

    /// A weak or unowned reference: it does not keep `to` alive.
    public struct WeakEdge: Hashable, Sendable {
        /// The node holding the reference.
        public var from: Int32
        /// The node referenced.
        public var to: Int32
        /// Index into `labels`.
        public var label: Int32

        /// A weak reference from `from` to `to`, labelled `label`.
        public init(from: Int32, to: Int32, label: Int32) {
            self.from = from
            self.to = to
            self.label = label
        }
    }

    /// Something outside the heap that holds nodes.
    public struct Root: Hashable, Sendable {
        /// The kind of holder.
        public var kind: Kind
        /// Its name: `App.SessionStore.shared`, `thread 12 (NIO-ELT-0-#0)`.
        public var name: String
        /// The nodes it holds.
        public var targets: [Int32]
        /// Where a global lives (0 for other kinds).
        public var address: UInt

        /// A root of `kind` named `name` holding `targets`.
        public init(kind: Kind, name: String, targets: [Int32], address: UInt = 0) {
            self.kind = kind
            self.name = name
            self.targets = targets
            self.address = address
        }

        /// Kinds of roots.
        public enum Kind: UInt8, Hashable, Sendable, CaseIterable {
            /// A global or static variable, named by its symbol: exact.
            case global = 1
            /// A word on a thread's stack equal to a node's address:
            /// conservative, it may be a stale value.
            case stack = 2
            /// Strong references the graph does not explain (C memory, the
            /// runtime, objects whose contents cannot be read, registers).
            case outside = 3
        }
    }
}
