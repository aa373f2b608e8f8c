/// The size of a value and of its referents, down to a resolution level.
///
/// `size` is everything the value keeps alive that was not counted before;
/// `flatSize` is the part that is the value's own (an object's heap block, a
/// collection's or string's storage); `size` equals `flatSize` plus the sizes of
/// `referents` whenever referents were expanded. Referents that add nothing
/// (plain numbers, data counted elsewhere) are left out.
public struct SizedNode: Hashable, Sendable, Codable {
    /// Where the value sits in its parent: a property name, `[index]`, `[key]`,
    /// `capture N`; the root's name is chosen by the caller.
    public var name: String
    /// The value's dynamic type, fully qualified.
    public var typeName: String
    /// Bytes of this value and everything it reaches, counted once.
    public var size: Int
    /// Bytes that are this value's own.
    public var flatSize: Int
    /// The direct referents, when the resolution level reached this far.
    public var referents: [SizedNode]
    /// Part of this value's type could not be introspected: it is counted with
    /// its own bytes, but what it references is not.
    public var isOpaque: Bool

    /// Creates a node; `size` defaults to the flat size plus the referents'.
    public init(
        name: String, typeName: String, size: Int? = nil, flatSize: Int,
        referents: [SizedNode] = [], isOpaque: Bool = false
    ) {
        self.name = name
        self.typeName = typeName
        self.flatSize = flatSize
        self.referents = referents
        self.size = size ?? referents.reduce(flatSize) { $0 + $1.size }
        self.isOpaque = isOpaque
    }

    /// The referent reached by following `names` from this node, if present.
    public func referent(_ names: String...) -> SizedNode? {
        var node = self
        for name in names {
            guard let next = node.referents.first(where: { $0.name == name }) else { return nil }
            node = next
        }
        return node
    }
}
