/// Which elements of a `ManagedBuffer` subclass's tail hold values, as its
/// header records them. The sizer reads no other element: a
/// `ManagedBuffer` keeps no count of its own, and an element slot that was
/// never initialised holds garbage.
///
/// ```swift
/// final class Chunk: ManagedBuffer<Chunk.Header, String> {
///     struct Header { var count: Int }
/// }
/// try Sizer.describeManagedBuffer(Chunk.self, elements: .prefix(countedBy: "count"))
/// ```
public struct ManagedBufferElements: Hashable, Sendable {
    enum Kind: Hashable {
        case prefix(count: String)
        case ring(capacity: String, count: String, start: String)
    }

    let kind: Kind

    /// Elements `0 ..< count`, where `count` is the header's stored integer
    /// property at this path (`"count"`, or `"counts.total"` in a nested
    /// struct). Any fixed-width integer type.
    ///
    /// ```swift
    /// .prefix(countedBy: "count")
    /// ```
    public static func prefix(countedBy count: String) -> Self { Self(kind: .prefix(count: count)) }

    /// A ring buffer of `capacity` slots holding `count` elements from slot
    /// `start` on, wrapping around to slot 0 (as swift-collections' `Deque`
    /// keeps them).
    ///
    /// ```swift
    /// .ring(capacity: "capacity", count: "count", start: "startSlot.position")
    /// ```
    public static func ring(capacity: String, count: String, start: String) -> Self {
        Self(kind: .ring(capacity: capacity, count: count, start: start))
    }

    /// The header paths this description reads.
    var paths: [String] {
        switch kind {
        case .prefix(let count): [count]
        case .ring(let capacity, let count, let start): [capacity, count, start]
        }
    }
}

/// Why `Sizer.describeManagedBuffer(_:elements:)` refused a description.
public struct ManagedBufferDescriptionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The header path that was asked for.
    public var path: String
    /// The header type, as the runtime names it.
    public var headerType: String

    /// `path` names no stored integer property of `headerType`.
    public var description: String {
        "\(headerType) has no stored integer property at \"\(path)\""
    }
}

/// The descriptions of `ManagedBuffer` subclasses: swift-collections' own,
/// known by their header types, and the user's, by class.
enum ManagedBufferDescriptions {
    private static let registry = Locked<[ContextDescriptor: ManagedBufferElements]>([:])

    static func register(_ elements: ManagedBufferElements, for descriptor: ContextDescriptor) {
        registry.withLock { $0[descriptor] = elements }
    }

    /// The user's description of a class (all its generic instances).
    static func described(_ descriptor: ContextDescriptor) -> ManagedBufferElements? {
        registry.withLock { $0[descriptor] }
    }

    /// swift-collections' buffers (and the concurrency library's deque,
    /// which `AsyncStream` buffers in), known by their header types' names:
    /// read from the descriptor, no runtime call, so a forked child knows
    /// them too.
    static func builtIn(header: Metadata) -> ManagedBufferElements? {
        switch header.descriptor?.name {
        case "_DequeBufferHeader": .ring(capacity: "capacity", count: "count", start: "startSlot.position")
        case "_RopeStorageHeader": .prefix(countedBy: "_childCount")
        default: nil
        }
    }
}

extension Sizer {
    /// Tells the sizer which elements of a `ManagedBuffer` subclass are
    /// initialised, so that they are sized and followed like an array's.
    /// One call covers every generic instance of the class. Describe a class
    /// before it is first sized: layouts are made once per type.
    ///
    /// A subclass nobody described is sized as its block (header and every
    /// slot included: the allocator's bytes), and if its element type can
    /// hold references it is listed in `opaqueTypeNames`: what those
    /// elements keep alive is left out. swift-collections' buffers (`Deque`,
    /// `TreeDictionary`, `TreeSet`, `BigString`'s rope) are known already.
    ///
    /// ```swift
    /// try Sizer.describeManagedBuffer(Chunk.self, elements: .prefix(countedBy: "count"))
    /// ```
    ///
    /// - Throws: `ManagedBufferDescriptionError` when a path does not name
    ///   a stored integer property of `Header`.
    public static func describeManagedBuffer<Header, Element>(
        _ type: ManagedBuffer<Header, Element>.Type, elements: ManagedBufferElements
    ) throws(ManagedBufferDescriptionError) {
        var layouts = LayoutBuilder()
        let header = Metadata(Header.self)
        for path in elements.paths where layouts.integerField(at: path, in: header) == nil {
            throw ManagedBufferDescriptionError(path: path, headerType: header.name)
        }
        guard let descriptor = Metadata(type).descriptor else { return }
        ManagedBufferDescriptions.register(elements, for: descriptor)
    }
}
