/// A node of the benchmark workload (`BENCHMARKS.md`): a name with heap
/// storage, children, a small dictionary and a weak back reference.
public final class Node {
    /// `"node-" + 12-digit index + "-payload"`.
    public var name: String
    /// Child nodes, appended one by one.
    public var children: [Node] = []
    /// Four small-string keys with integer values.
    public var attrs: [String: Int]
    /// The parent, held weakly (so the parent gets a side table).
    public weak var parent: Node?

    /// Creates node number `index` under `parent` (not added to its children).
    public init(index: Int, parent: Node?) {
        name = Self.name(for: index)
        attrs = ["a": index, "b": index + 1, "c": index + 2, "d": index + 3]
        self.parent = parent
    }

    /// `"node-" + 12-digit zero-padded index + "-payload"`: 25 ASCII bytes, too
    /// long for a small string, so every name has its own storage.
    static func name(for index: Int) -> String {
        let digits = String(index)
        return "node-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + "-payload"
    }
}

/// Builds `count` nodes breadth-first with the given fan-out from one root;
/// nothing but the root keeps the tree alive.
public func buildNodeTree(count: Int, fanOut: Int = 8) -> Node {
    let root = Node(index: 0, parent: nil)
    var queue = [root]
    var head = 0, built = 1
    while built < count {
        let parent = queue[head]
        head += 1
        for _ in 0..<fanOut where built < count {
            let child = Node(index: built, parent: parent)
            parent.children.append(child)
            queue.append(child)
            built += 1
        }
    }
    return root
}
