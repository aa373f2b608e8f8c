import CHeapMonitor

/// What a class instance is beyond its stored properties: the runtime's
/// tail-allocated containers keep their contents outside any declared field.
enum ObjectShape {
    case plain
    /// Tail-allocated elements: an array's storage, or a deque's ring buffer.
    case arrayStorage(element: Unmanaged<TypeLayout>, elementsOffset: Int, indexing: ElementIndexing)
    case dictionaryStorage(
        key: Unmanaged<TypeLayout>, value: Unmanaged<TypeLayout>,
        fields: HashStorageFields, bitmapOffset: Int)
    case setStorage(element: Unmanaged<TypeLayout>, fields: HashStorageFields, bitmapOffset: Int)
    /// A closure context or box: its captures are its fields.
    case captures
    /// A boxed `Error`: its value's type is stored in the box.
    case errorBox
    /// A malloc'd buffer the object owns behind a raw pointer at `pointer`
    /// (Foundation's `Data` storage, SwiftNIO's `ByteBuffer` storage, classes
    /// registered with `Sizer.registerOwnedBuffer`).
    case ownedBuffer(pointer: Int, ownership: BufferOwnership)
    /// A node of swift-collections' hash-array-mapped trie (`TreeDictionary`,
    /// `TreeSet`): child nodes from the start of its tail, items from its end.
    case hashTrieNode(HashTrieNode)
}

/// Where a container of tail-allocated elements keeps its count and, for a
/// ring buffer (the standard library's internal `_Deque`, which
/// `AsyncStream` buffers in, and swift-collections' `Deque`), its capacity
/// and first slot.
struct ElementIndexing {
    let count: IntegerField
    let ring: (capacity: IntegerField, start: IntegerField)?
    /// For a `ManagedBuffer` subclass, whose header the sizer takes on
    /// trust from a description: where its elements start and their
    /// stride, so that no slot past the object's block is read.
    let bound: (elementsOffset: Int, stride: Int)?

    init(
        count: IntegerField, ring: (capacity: IntegerField, start: IntegerField)? = nil,
        bound: (elementsOffset: Int, stride: Int)? = nil
    ) {
        self.count = count
        self.ring = ring
        self.bound = bound
    }

    static let array = ElementIndexing(count: IntegerField(offset: 16))

    /// The occupied slots as two runs, the second empty unless a ring wraps
    /// around its end; both empty when the bookkeeping does not add up,
    /// rather than read past the block. (A pair, not an array: this runs
    /// for every array storage object sized.)
    @inline(__always)
    func runs(in object: UnsafeRawPointer) -> (Range<Int>, Range<Int>) {
        let count = self.count.load(from: object)
        guard count > 0 else { return (0..<0, 0..<0) }
        // Slots the block has room for, where the header is not trusted.
        var room = Int.max
        if let bound {
            guard bound.stride > 0 else { return (0..<0, 0..<0) }
            room = max(0, hm_block_size(object) - bound.elementsOffset) / bound.stride
        }
        guard let ring else { return count <= room ? (0..<count, 0..<0) : (0..<0, 0..<0) }
        let ringCapacity = ring.capacity.load(from: object)
        let start = ring.start.load(from: object)
        guard count <= ringCapacity, ringCapacity <= room, start >= 0, start < ringCapacity else {
            return (0..<0, 0..<0)
        }
        let first = min(count, ringCapacity - start)
        return (start..<(start + first), 0..<(count - first))
    }

    /// Each occupied slot with its place in the container's order.
    func forEachSlot(in object: UnsafeRawPointer, _ body: (_ slot: Int, _ position: Int) -> Void) {
        let (first, second) = runs(in: object)
        for (position, slot) in first.enumerated() { body(slot, position) }
        for (offset, slot) in second.enumerated() { body(slot, first.count + offset) }
    }
}

/// A non-negative integer an object stores: where, and how many bytes wide
/// (1, 2, 4 or 8).
struct IntegerField {
    let offset: Int
    let width: Int

    init(offset: Int, width: Int = 8) {
        self.offset = offset
        self.width = width
    }

    @inline(__always)
    func load(from object: UnsafeRawPointer) -> Int {
        switch width {
        case 1: Int(object.load(fromByteOffset: offset, as: UInt8.self))
        case 2: Int(object.load(fromByteOffset: offset, as: UInt16.self))
        case 4: Int(object.load(fromByteOffset: offset, as: UInt32.self))
        default: object.load(fromByteOffset: offset, as: Int.self)
        }
    }
}

/// How the sizer knows an object's raw buffer is its own malloc'd block.
enum BufferOwnership {
    /// Owned unless a deallocator is set (Foundation's `Data`).
    case unlessDeallocator(offset: Int)
    /// Owned when the pointer starts a glibc block of at least the capacity
    /// stored at `offset` (`size` bytes wide).
    case mallocBlock(capacityOffset: Int, capacitySize: Int)
}

/// Where `__RawDictionaryStorage` / `__RawSetStorage` keep their bookkeeping.
struct HashStorageFields {
    let count: Int
    let scale: Int
    /// Keys (dictionaries) or elements (sets).
    let keys: Int
    /// Values (dictionaries only).
    let values: Int?
}

/// How a node of swift-collections' hash-array-mapped trie keeps its
/// contents: a `ManagedBuffer<_HashNodeHeader, _RawHashNode>` whose header
/// has two 32-bit maps and the tail's byte capacity. Children (each a node
/// reference and a count) are stored from the tail's start, items
/// (`(key: Key, value: Value)`) backwards from its end; in a collision node
/// the two maps are equal and hold the item count.
struct HashTrieNode {
    let child: Unmanaged<TypeLayout>
    let key: Unmanaged<TypeLayout>
    let value: Unmanaged<TypeLayout>
    /// Where an item's value starts, and the items' stride.
    let valueOffset: Int
    let itemStride: Int
    let tailOffset: Int
    let itemMap: Int
    let childMap: Int
    let byteCapacity: Int

    /// The node's children (from the tail's start) and items (the lowest
    /// address: item `itemCount - 1`; see `item(_:of:)`), with their
    /// counts; none when the header does not fit the object's block.
    func contents(of object: UnsafeRawPointer) -> (
        children: UnsafeRawPointer, childCount: Int, items: UnsafeRawPointer, itemCount: Int
    ) {
        let items = object.load(fromByteOffset: itemMap, as: UInt32.self)
        let children = object.load(fromByteOffset: childMap, as: UInt32.self)
        let collision = items == children
        let childCount = collision ? 0 : children.nonzeroBitCount
        let itemCount = collision ? Int(items) : items.nonzeroBitCount
        let capacity = Int(object.load(fromByteOffset: byteCapacity, as: UInt32.self))
        let childStride = child._withUnsafeGuaranteedRef { $0.stride }
        let tail = object + tailOffset
        guard capacity <= hm_block_size(object) - tailOffset,
            childCount * childStride + itemCount * itemStride <= capacity
        else { return (tail, 0, tail, 0) }
        return (tail, childCount, tail + capacity - itemCount * itemStride, itemCount)
    }

    /// Item `index` of `count`, given `contents(of:)`'s `items`: stored
    /// from the tail's end backwards.
    func item(
        _ index: Int, of count: Int, items: UnsafeRawPointer
    ) -> (key: UnsafeRawPointer, value: UnsafeRawPointer) {
        let address = items + (count - 1 - index) * itemStride
        return (address, address + valueOffset)
    }
}
