// The shapes of objects whose contents lie outside their declared fields:
// the standard library's containers, Foundation's `Data`, deque ring
// buffers and registered C buffers (SwiftNIO's `ByteBuffer`).

extension LayoutBuilder {
    /// What an object of this class holds beyond its stored properties.
    mutating func specialShape(of metadata: Metadata, fields: [FieldLayout]) -> ObjectShape {
        let descriptor = metadata.descriptor
        func argument(_ index: Int) -> Metadata? {
            metadata.genericArguments.map { Metadata($0.load(fromByteOffset: 8 * index, as: UnsafeRawPointer.self)) }
        }
        func offset(of name: String) -> Int? { fields.first { $0.name == name }?.offset }
        let tailStart = (metadata.instanceSize + 7) & ~7
        func layoutRef(_ type: Metadata) -> Unmanaged<TypeLayout> {
            Unmanaged.passUnretained(layout(for: type, trusted: true))
        }
        if descriptor == KnownTypes.arrayStorage, let element = argument(0) {
            let mask = element.alignmentMask
            return .arrayStorage(
                element: layoutRef(element), elementsOffset: (metadata.instanceSize + mask) & ~mask, indexing: .array)
        }
        // A `ManagedBuffer<Header, Element>` subclass: its own generic
        // arguments are out of reach (resilient superclass), its base's are not.
        if descriptor?.name == "_DequeBuffer", let base = metadata.superclass, let arguments = base.genericArguments,
            let indexing = dequeIndexing(fields)
        {
            let element = Metadata(arguments.load(fromByteOffset: 8, as: UnsafeRawPointer.self))
            let mask = element.alignmentMask
            return .arrayStorage(
                element: layoutRef(element), elementsOffset: (metadata.instanceSize + mask) & ~mask, indexing: indexing)
        }
        if descriptor == KnownTypes.dictionaryStorage, let key = argument(0), let value = argument(1),
            let count = offset(of: "_count"), let scale = offset(of: "_scale"),
            let keys = offset(of: "_rawKeys"), let values = offset(of: "_rawValues")
        {
            return .dictionaryStorage(
                key: layoutRef(key), value: layoutRef(value),
                fields: HashStorageFields(count: count, scale: scale, keys: keys, values: values),
                bitmapOffset: tailStart)
        }
        if descriptor == KnownTypes.setStorage, let element = argument(0),
            let count = offset(of: "_count"), let scale = offset(of: "_scale"),
            let elements = offset(of: "_rawElements")
        {
            return .setStorage(
                element: layoutRef(element),
                fields: HashStorageFields(count: count, scale: scale, keys: elements, values: nil),
                bitmapOffset: tailStart)
        }
        if descriptor?.name == "__DataStorage", let bytes = offset(of: "_bytes"),
            let deallocator = offset(of: "_deallocator")
        {
            return .ownedBuffer(pointer: bytes, ownership: .unlessDeallocator(offset: deallocator))
        }
        // Not in a child of a fork: the registry's lock, and the name.
        if RuntimeLookups.mayCall(), let registered = OwnedBuffers.fields(forClassNamed: metadata.name),
            let pointer = offset(of: registered.pointer),
            let capacity = fields.first(where: { $0.name == registered.capacity }), [4, 8].contains(capacity.type.size)
        {
            return .ownedBuffer(
                pointer: pointer,
                ownership: .mallocBlock(capacityOffset: capacity.offset, capacitySize: capacity.type.size))
        }
        return .plain
    }

    /// A `ManagedBuffer<_DequeBufferHeader, Element>`'s bookkeeping, read from
    /// the header's field descriptors (`capacity`, `count`, `startSlot`).
    private mutating func dequeIndexing(_ fields: [FieldLayout]) -> ElementIndexing? {
        guard let header = fields.first(where: { $0.name == "header" }) else { return nil }
        let headerFields = storedFields(of: header.type).fields
        func offset(_ name: String) -> Int? { headerFields.first { $0.name == name }.map { header.offset + $0.offset } }
        guard let capacity = offset("capacity"), let count = offset("count"), let start = offset("startSlot") else {
            return nil
        }
        return ElementIndexing(count: count, ring: (capacity, start))
    }
}
