// The shapes of objects whose contents lie outside their declared fields:
// the standard library's containers, Foundation's `Data`, deque ring
// buffers and registered C buffers (SwiftNIO's `ByteBuffer`).

extension LayoutBuilder {
    /// What an object of this class holds beyond its stored properties:
    /// sets `layout.shape`, and marks the layout opaque if that leaves
    /// part of it unread.
    mutating func setSpecialShape(of layout: TypeLayout) {
        let metadata = layout.metadata, fields = layout.fields
        if let base = metadata.ancestry.first(where: { $0.descriptor == KnownTypes.managedBuffer }) {
            let shape = managedBufferShape(of: metadata, base: base, fields: fields)
            layout.shape = shape.shape
            if shape.leavesOutElements { layout.isOpaque = true }
            return
        }
        layout.shape = specialShape(of: metadata, fields: fields)
    }

    private mutating func specialShape(of metadata: Metadata, fields: [FieldLayout]) -> ObjectShape {
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

    /// A `ManagedBuffer<Header, Element>` subclass's tail, as its description
    /// says (swift-collections' own, or the user's): the elements it holds;
    /// or, undescribed, `.plain` — its block counted, its elements not
    /// read, and left out if they could hold references.
    private mutating func managedBufferShape(
        of metadata: Metadata, base: Metadata, fields: [FieldLayout]
    ) -> (shape: ObjectShape, leavesOutElements: Bool) {
        guard let arguments = base.genericArguments, let header = fields.first(where: { $0.name == "header" }) else {
            return (.plain, true)
        }
        let element = Metadata(arguments.load(fromByteOffset: 8, as: UnsafeRawPointer.self))
        let mask = element.alignmentMask
        let elementsOffset = (metadata.instanceSize + mask) & ~mask
        // `_HashNode<Key, Value>.Storage`, not the empty singleton made as a
        // plain `ManagedBuffer` (whose generic arguments are its base's).
        if metadata != base, header.type.descriptor?.name == "_HashNodeHeader",
            element.descriptor?.name == "_RawHashNode",
            let node = hashTrieNode(metadata, header: header, child: element, tail: elementsOffset)
        {
            return (.hashTrieNode(node), false)
        }
        let description =
            ManagedBufferDescriptions.builtIn(header: header.type)
            ?? (RuntimeLookups.mayCall() ? metadata.descriptor.flatMap(ManagedBufferDescriptions.described) : nil)
        guard let description,
            let indexing = elementIndexing(
                description, header: header, bound: (elementsOffset, element.stride))
        else { return (.plain, !element.isPOD) }
        let shape = ObjectShape.arrayStorage(
            element: Unmanaged.passUnretained(layout(for: element, trusted: true)), elementsOffset: elementsOffset,
            indexing: indexing)
        return (shape, false)
    }

    /// Where a described buffer's header keeps its element count (and ring
    /// bookkeeping), read from the header's field descriptors.
    private mutating func elementIndexing(
        _ description: ManagedBufferElements, header: FieldLayout, bound: (elementsOffset: Int, stride: Int)
    ) -> ElementIndexing? {
        func field(_ path: String) -> IntegerField? { headerInteger(path, in: header) }
        switch description.kind {
        case .prefix(let count):
            return field(count).map { ElementIndexing(count: $0, bound: bound) }
        case .ring(let capacity, let count, let start):
            guard let capacity = field(capacity), let count = field(count), let start = field(start) else { return nil }
            return ElementIndexing(count: count, ring: (capacity, start), bound: bound)
        }
    }

    /// A trie node's shape, from its header's fields and the `Key` and
    /// `Value` generic arguments of `_HashNode<Key, Value>.Storage`.
    private mutating func hashTrieNode(
        _ metadata: Metadata, header: FieldLayout, child: Metadata, tail: Int
    ) -> HashTrieNode? {
        guard let arguments = metadata.genericArguments else { return nil }
        let key = Metadata(arguments.load(as: UnsafeRawPointer.self))
        let value = Metadata(arguments.load(fromByteOffset: 8, as: UnsafeRawPointer.self))
        // The maps are `_Bitmap` structs around one `UInt32`.
        guard let itemMap = headerInteger("itemMap._value", in: header),
            let childMap = headerInteger("childMap._value", in: header),
            let capacity = headerInteger("_byteCapacity", in: header)
        else { return nil }
        let alignment = max(key.alignmentMask, value.alignmentMask)
        let valueOffset = (key.size + value.alignmentMask) & ~value.alignmentMask
        let itemStride = max(1, (valueOffset + value.size + alignment) & ~alignment)
        return HashTrieNode(
            child: Unmanaged.passUnretained(layout(for: child, trusted: true)),
            key: Unmanaged.passUnretained(layout(for: key, trusted: true)),
            value: Unmanaged.passUnretained(layout(for: value, trusted: true)),
            valueOffset: valueOffset, itemStride: itemStride, tailOffset: tail,
            itemMap: itemMap.offset, childMap: childMap.offset, byteCapacity: capacity.offset)
    }

    /// The integer at a dotted `path` in a `ManagedBuffer`'s stored header,
    /// where the object holds it.
    private mutating func headerInteger(_ path: String, in header: FieldLayout) -> IntegerField? {
        integerField(at: path, in: header.type).map { IntegerField(offset: header.offset + $0.offset, width: $0.width) }
    }

    /// The integer stored property at a dotted `path` in values of `type`
    /// (`startSlot.position`): its offset and width, or nil.
    mutating func integerField(at path: String, in type: Metadata) -> (offset: Int, width: Int)? {
        var type = type, offset = 0
        for name in path.split(separator: ".") {
            guard let field = storedFields(of: type).fields.first(where: { $0.name == name }) else { return nil }
            offset += field.offset
            type = field.type
        }
        guard type.kind == .struct, let name = type.descriptor?.name, Self.integerTypes.contains(name),
            [1, 2, 4, 8].contains(type.size)
        else { return nil }
        return (offset, type.size)
    }

    /// The standard library's fixed-width integers, by descriptor name.
    private static let integerTypes: Set<String> = [
        "Int", "Int8", "Int16", "Int32", "Int64", "UInt", "UInt8", "UInt16", "UInt32", "UInt64",
    ]
}
