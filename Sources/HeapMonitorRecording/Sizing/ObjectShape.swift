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
}

/// Where a container of tail-allocated elements keeps its count and, for a
/// ring buffer (the standard library's internal `_Deque`, which
/// `AsyncStream` buffers in, and swift-collections' `Deque`), its capacity
/// and first slot.
struct ElementIndexing {
    let count: Int
    let ring: (capacity: Int, start: Int)?

    static let array = ElementIndexing(count: 16, ring: nil)

    /// The occupied slots as two runs, the second empty unless a ring wraps
    /// around its end; both empty when the bookkeeping does not add up,
    /// rather than read past the block. (A pair, not an array: this runs
    /// for every array storage object sized.)
    @inline(__always)
    func runs(in object: UnsafeRawPointer) -> (Range<Int>, Range<Int>) {
        let count = object.load(fromByteOffset: self.count, as: Int.self)
        guard count > 0 else { return (0..<0, 0..<0) }
        guard let ring else { return (0..<count, 0..<0) }
        let capacity = object.load(fromByteOffset: ring.capacity, as: Int.self)
        let start = object.load(fromByteOffset: ring.start, as: Int.self)
        guard count <= capacity, start >= 0, start < capacity else { return (0..<0, 0..<0) }
        let first = min(count, capacity - start)
        return (start..<(start + first), 0..<(count - first))
    }

    /// Each occupied slot with its place in the container's order.
    func forEachSlot(in object: UnsafeRawPointer, _ body: (_ slot: Int, _ position: Int) -> Void) {
        let (first, second) = runs(in: object)
        for (position, slot) in first.enumerated() { body(slot, position) }
        for (offset, slot) in second.enumerated() { body(slot, first.count + offset) }
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
