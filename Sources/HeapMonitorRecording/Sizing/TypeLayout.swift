import HeapMonitorModel

/// One place in a value where something outside the value may hang: a reference,
/// or a value whose shape is only known at run time.
enum Slot {
    /// A strong class reference (also any single-payload enum over one, so nil
    /// and empty cases, which are small invalid pointers, need no tag check).
    case object(offset: Int)
    /// `String`'s two words: flags and a tagged storage pointer.
    case string(offset: Int)
    /// `Builtin.BridgeObject`: a tagged reference.
    case bridgeObject(offset: Int)
    /// A thick closure: function pointer, then its context object.
    case function(offset: Int)
    /// `Any` or a non-class protocol: three inline words, type, witness tables.
    case existential(offset: Int)
    /// A class-bound existential: a reference first.
    case classExistential(offset: Int)
    /// An enum or optional whose payload needs its case to be read. The layout
    /// is kept alive by its `LayoutBuilder`; slots stay free of reference counting.
    case enumeration(offset: Int, layout: Unmanaged<TypeLayout>)
    /// A value that cannot be introspected: its inline bytes count, nothing more.
    case opaque(offset: Int, type: Metadata)
}

/// A named part of a value, for referent trees.
struct FieldLayout {
    let name: String
    let offset: Int
    let type: Metadata
}

/// One case of an enum; payload cases come first, in tag order.
struct EnumCaseLayout {
    let name: String
    let payload: Metadata?
    let isIndirect: Bool
}

/// What a class instance is beyond its stored properties: the runtime's
/// tail-allocated containers keep their contents outside any declared field.
enum ObjectShape {
    case plain
    /// Tail-allocated elements: an array's storage, or a deque's ring buffer.
    case arrayStorage(element: Unmanaged<TypeLayout>, elementsOffset: Int, indexing: ElementIndexing)
    case dictionaryStorage(key: Unmanaged<TypeLayout>, value: Unmanaged<TypeLayout>,
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

/// How to walk values of one type: computed once per type, then reused.
final class TypeLayout {
    let metadata: Metadata
    /// Inline bytes of one value (for classes: of the instance's stored properties).
    let size: Int
    /// The flattened places that lead outside the value, while building.
    fileprivate(set) var slots: [Slot] = []
    /// `slots`, frozen once built: the traversal reads them without reference
    /// counting.
    private(set) var frozenSlots = UnsafeBufferPointer<Slot>(start: nil, count: 0)
    /// Direct parts with names, for referent trees.
    fileprivate(set) var fields: [FieldLayout] = []
    fileprivate(set) var cases: [EnumCaseLayout] = []
    fileprivate(set) var shape: ObjectShape = .plain
    /// Part of the type could not be introspected; it is sized flat only.
    fileprivate(set) var isOpaque = false
    /// The word taken for metadata failed `MetadataCheck`: a dangling
    /// reference or another kind of memory. Nothing of it is read or counted.
    fileprivate(set) var isUnreadable = false

    /// Multi-payload enums may keep their tag in the payload's spare bits, so
    /// their payload is read from a projected copy.
    fileprivate(set) var needsProjection = false

    init(metadata: Metadata, size: Int) {
        self.metadata = metadata
        self.size = size
    }

    deinit { frozenSlots.deallocate() }

    fileprivate func freeze() {
        frozenSlots.deallocate()
        let buffer = UnsafeMutableBufferPointer<Slot>.allocate(capacity: slots.count)
        _ = buffer.initialize(from: slots)
        frozenSlots = UnsafeBufferPointer(buffer)
    }

    var stride: Int { metadata.stride }
}

extension Unmanaged where Instance == TypeLayout {
    /// The frozen slots of a layout its builder keeps alive, read without a retain.
    @inline(__always)
    var slots: UnsafeBufferPointer<Slot> { _withUnsafeGuaranteedRef { $0.frozenSlots } }
}

/// Builds `TypeLayout`s from runtime metadata and keeps them. Each sizer owns
/// one, so no lock is needed; a layout costs microseconds, once per type.
/// Metadata read from memory is checked (`MetadataCheck`) before a layout is
/// built from it.
struct LayoutBuilder {
    private var check: MetadataCheck
    /// Layouts of values of a type (for a class type: the reference).
    private var valueLayouts: [Metadata: TypeLayout] = [:]
    /// Layouts of heap objects by their metadata (class instances, boxes, contexts).
    private var objectLayouts: [Metadata: TypeLayout] = [:]

    /// Type names for reports, resolved once.
    private var names: [Metadata: String] = [:]
    /// Words that failed the check in this analysis: not kept across
    /// analyses, since memory that held garbage may hold metadata later.
    private var unreadableLayouts: [Metadata: TypeLayout] = [:]

    init(memory: MemoryMap? = nil) { check = MetadataCheck(memory: memory) }

    /// Starts an analysis: checks against memory as it is now, and nothing
    /// remembered of the words that failed before.
    mutating func startAnalysis(memory: MemoryMap?) {
        check = MetadataCheck(memory: memory)
        unreadableLayouts = [:]
    }

    /// The layout of values of `metadata`'s type. A `trusted` metadata came
    /// from the runtime (a field's resolved type, a generic argument of
    /// metadata already checked) and is not checked again: a check can only
    /// fail there on a map that missed memory, and that must not leave the
    /// field out of a layout kept for good.
    mutating func layout(for metadata: Metadata, trusted: Bool = false) -> TypeLayout {
        if let known = valueLayouts[metadata] { return known }
        if !trusted, let failed = unreadableLayouts[metadata] { return failed }
        guard trusted || check.isTypeMetadata(metadata.pointer) else { return unreadable(metadata) }
        let layout = TypeLayout(metadata: metadata, size: metadata.size)
        // Registered before its parts so that a recursive enum finds itself.
        valueLayouts[metadata] = layout
        fill(layout)
        layout.freeze()
        return layout
    }

    /// The name of `metadata`'s type, asked of the runtime once per type.
    mutating func name(of metadata: Metadata) -> String {
        if let known = names[metadata] { return known }
        let name = metadata.name
        names[metadata] = name
        return name
    }

    mutating func objectLayout(for metadata: Metadata) -> TypeLayout {
        if let known = objectLayouts[metadata] ?? unreadableLayouts[metadata] { return known }
        guard check.isObjectMetadata(metadata.pointer) else { return unreadable(metadata) }
        let layout = makeObjectLayout(metadata)
        layout.freeze()
        objectLayouts[metadata] = layout
        return layout
    }

    private mutating func unreadable(_ metadata: Metadata) -> TypeLayout {
        let layout = TypeLayout(metadata: metadata, size: 0)
        layout.isUnreadable = true
        layout.freeze()
        unreadableLayouts[metadata] = layout
        return layout
    }

    // MARK: Values

    private mutating func fill(_ layout: TypeLayout) {
        let metadata = layout.metadata
        switch metadata.kind {
        case .struct:
            let fields = storedFields(of: metadata)
            layout.fields = fields.fields
            layout.isOpaque = fields.isOpaque
            if metadata == KnownTypes.string {
                layout.slots = [.string(offset: 0)]
            } else if !metadata.isPOD {
                for field in fields.fields { appendSlots(of: field.type, at: field.offset, to: layout) }
            }
        case .tuple:
            layout.fields = metadata.tupleElements.enumerated().map { index, element in
                FieldLayout(name: element.label ?? ".\(index)", offset: element.offset, type: element.type)
            }
            for field in layout.fields { appendSlots(of: field.type, at: field.offset, to: layout) }
        case .fixedArray:
            let (count, element) = metadata.fixedArray
            layout.fields = (0..<max(0, count)).map { FieldLayout(name: "[\($0)]", offset: $0 * element.stride, type: element) }
            if !element.isPOD {
                for field in layout.fields { appendSlots(of: field.type, at: field.offset, to: layout) }
            }
        case .enum, .optional:
            fillEnum(layout)
        default:
            appendSlots(of: metadata, at: 0, to: layout)
        }
    }

    private mutating func fillEnum(_ layout: TypeLayout) {
        let metadata = layout.metadata
        guard let descriptor = metadata.descriptor, let fields = descriptor.fields else {
            layout.isOpaque = !metadata.isPOD
            return
        }
        let payloadCases = descriptor.enumPayloadCaseCount
        layout.needsProjection = payloadCases > 1
        let arguments = metadata.genericArguments
        for index in 0..<fields.count {
            let record = fields[index]
            var payload: Metadata?
            if index < payloadCases {
                payload = record.typeName?.resolve(in: descriptor, genericArguments: arguments)
                if payload == nil { layout.isOpaque = true }
            }
            layout.cases.append(EnumCaseLayout(name: record.name, payload: payload, isIndirect: record.isIndirectCase))
        }
        guard !metadata.isPOD else { return }
        let payloads = layout.cases.compactMap { $0.payload }
        if payloadCases == 1, let only = payloads.first, !layout.cases[0].isIndirect, isSingleReference(only) {
            layout.slots = [.object(offset: 0)]
        } else {
            layout.slots = [.enumeration(offset: 0, layout: Unmanaged.passUnretained(layout))]
        }
    }

    /// Stored properties of a struct or class (superclass fields first). Weak and
    /// unowned properties are left out: sizing follows strong references only.
    private func storedFields(of metadata: Metadata) -> (fields: [FieldLayout], isOpaque: Bool) {
        let chain = Array(metadata.ancestry)
        var fields: [FieldLayout] = []
        var isOpaque = false
        for type in chain.reversed() {
            guard let descriptor = type.descriptor, let records = descriptor.fields else { continue }
            let arguments = type.genericArguments
            for index in 0..<records.count {
                let record = records[index]
                guard let name = record.typeName, name.ownership == .strong else { continue }
                if let fieldType = name.resolve(in: descriptor, genericArguments: arguments) {
                    fields.append(FieldLayout(name: record.name, offset: type.fieldOffset(index), type: fieldType))
                } else {
                    isOpaque = true
                }
            }
        }
        return (fields, isOpaque)
    }

    /// Whether values of `type` are exactly one strong reference.
    private func isSingleReference(_ type: Metadata) -> Bool {
        switch type.kind {
        case .class: return true
        case .opaque: return KnownTypes.nativeReferences.contains(type)
        case .existential: return type.existentialRepresentation == .classBound && type.size == 8
        default: return false
        }
    }

    /// Adds the slots of a value of `type` stored at `offset` within `layout`.
    private mutating func appendSlots(of type: Metadata, at offset: Int, to layout: TypeLayout) {
        switch type.kind {
        case .class:
            layout.slots.append(.object(offset: offset))
        case .struct, .tuple, .fixedArray, .enum, .optional:
            guard !type.isPOD else { return }
            let inner = self.layout(for: type, trusted: true)
            if inner.isOpaque { layout.isOpaque = true }
            for slot in inner.slots { layout.slots.append(slot.shifted(by: offset)) }
        case .function:
            if type.isThickFunction { layout.slots.append(.function(offset: offset)) }
        case .existential:
            switch type.existentialRepresentation {
            case .opaque: layout.slots.append(.existential(offset: offset))
            case .classBound: layout.slots.append(.classExistential(offset: offset))
            case .error: layout.slots.append(.object(offset: offset))
            case .metatype: return
            case .unknown:
                layout.slots.append(.opaque(offset: offset, type: type))
                layout.isOpaque = true
            }
        case .opaque:
            if KnownTypes.nativeReferences.contains(type) {
                layout.slots.append(.object(offset: offset))
            } else if type == KnownTypes.bridgeObject {
                layout.slots.append(.bridgeObject(offset: offset))
            } else if !type.isPOD {
                layout.slots.append(.opaque(offset: offset, type: type))
                layout.isOpaque = true
            }
        case .metatype, .existentialMetatype:
            return
        default:
            if !type.isPOD {
                layout.slots.append(.opaque(offset: offset, type: type))
                layout.isOpaque = true
            }
        }
    }

    // MARK: Objects

    private mutating func makeObjectLayout(_ metadata: Metadata) -> TypeLayout {
        switch metadata.kind {
        case .heapLocalVariable:
            let layout = TypeLayout(metadata: metadata, size: 0)
            fillCaptures(layout)
            return layout
        case .heapGenericLocalVariable:
            let layout = TypeLayout(metadata: metadata, size: 0)
            let contents = metadata.genericBoxContents
            setCaptures([FieldLayout(name: "value", offset: contents.offset, type: contents.type)], of: layout)
            return layout
        case .errorObject:
            let layout = TypeLayout(metadata: metadata, size: 0)
            layout.shape = .errorBox
            return layout
        case .class:
            let layout = TypeLayout(metadata: metadata, size: metadata.instanceSize)
            let fields = storedFields(of: metadata)
            layout.fields = fields.fields
            layout.isOpaque = fields.isOpaque
            for field in fields.fields { appendSlots(of: field.type, at: field.offset, to: layout) }
            layout.shape = specialShape(of: metadata, fields: fields.fields)
            return layout
        default:
            // Not an object this sizer knows how to read: flat size only.
            let layout = TypeLayout(metadata: metadata, size: 0)
            layout.isOpaque = true
            return layout
        }
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
            return .arrayStorage(element: layoutRef(element), elementsOffset: (metadata.instanceSize + mask) & ~mask, indexing: .array)
        }
        // A `ManagedBuffer<Header, Element>` subclass: its own generic
        // arguments are out of reach (resilient superclass), its base's are not.
        if descriptor?.name == "_DequeBuffer", let base = metadata.superclass, let arguments = base.genericArguments,
           let indexing = dequeIndexing(fields) {
            let element = Metadata(arguments.load(fromByteOffset: 8, as: UnsafeRawPointer.self))
            let mask = element.alignmentMask
            return .arrayStorage(element: layoutRef(element), elementsOffset: (metadata.instanceSize + mask) & ~mask, indexing: indexing)
        }
        if descriptor == KnownTypes.dictionaryStorage, let key = argument(0), let value = argument(1),
           let count = offset(of: "_count"), let scale = offset(of: "_scale"),
           let keys = offset(of: "_rawKeys"), let values = offset(of: "_rawValues") {
            return .dictionaryStorage(key: layoutRef(key), value: layoutRef(value),
                                      fields: HashStorageFields(count: count, scale: scale, keys: keys, values: values),
                                      bitmapOffset: tailStart)
        }
        if descriptor == KnownTypes.setStorage, let element = argument(0),
           let count = offset(of: "_count"), let scale = offset(of: "_scale"), let elements = offset(of: "_rawElements") {
            return .setStorage(element: layoutRef(element),
                               fields: HashStorageFields(count: count, scale: scale, keys: elements, values: nil),
                               bitmapOffset: tailStart)
        }
        if descriptor?.name == "__DataStorage", let bytes = offset(of: "_bytes"), let deallocator = offset(of: "_deallocator") {
            return .ownedBuffer(pointer: bytes, ownership: .unlessDeallocator(offset: deallocator))
        }
        if let registered = OwnedBuffers.fields(forClassNamed: metadata.name),
           let pointer = offset(of: registered.pointer),
           let capacity = fields.first(where: { $0.name == registered.capacity }), [4, 8].contains(capacity.type.size) {
            return .ownedBuffer(pointer: pointer, ownership: .mallocBlock(capacityOffset: capacity.offset, capacitySize: capacity.type.size))
        }
        return .plain
    }

    /// A `ManagedBuffer<_DequeBufferHeader, Element>`'s bookkeeping, read from
    /// the header's field descriptors (`capacity`, `count`, `startSlot`).
    private mutating func dequeIndexing(_ fields: [FieldLayout]) -> ElementIndexing? {
        guard let header = fields.first(where: { $0.name == "header" }) else { return nil }
        let headerFields = storedFields(of: header.type).fields
        func offset(_ name: String) -> Int? { headerFields.first { $0.name == name }.map { header.offset + $0.offset } }
        guard let capacity = offset("capacity"), let count = offset("count"), let start = offset("startSlot") else { return nil }
        return ElementIndexing(count: count, ring: (capacity, start))
    }

    /// Lays out the captures of a closure context or compiler-emitted box from its
    /// capture descriptor. Captures are stored in order, each at its alignment;
    /// a capture whose type cannot be resolved ends the layout, marked opaque.
    private mutating func fillCaptures(_ layout: TypeLayout) {
        let (firstCapture, descriptor) = layout.metadata.captureLayout
        guard let descriptor else {
            layout.isOpaque = true
            return
        }
        let captureCount = Int(descriptor.load(as: UInt32.self))
        let bindings = Int(descriptor.load(fromByteOffset: 8, as: UInt32.self))
        var offset = firstCapture + 8 * bindings
        var captures: [FieldLayout] = []
        for index in 0..<captureCount {
            guard let raw = relativePointer(at: descriptor + 12 + 4 * index) else { break }
            let name = MangledName(raw)
            let label = "capture \(index)"
            if let type = name.resolve() {
                let mask = type.alignmentMask
                offset = (offset + mask) & ~mask
                // `[weak x]` and `[unowned x]` captures take the strong type's
                // room but hold a side-table pointer or an unowned reference:
                // sizing follows strong references only.
                if name.ownership == .strong { captures.append(FieldLayout(name: label, offset: offset, type: type)) }
                offset += type.size
            } else if let special = KnownTypes.loweredCaptureType(name.text) {
                offset = (offset + 7) & ~7
                captures.append(FieldLayout(name: label, offset: offset, type: special))
                offset += special.size
            } else {
                layout.isOpaque = true
                break
            }
        }
        setCaptures(captures, of: layout)
    }

    private mutating func setCaptures(_ captures: [FieldLayout], of layout: TypeLayout) {
        layout.fields = captures
        layout.shape = .captures
        for capture in captures { appendSlots(of: capture.type, at: capture.offset, to: layout) }
    }
}

extension Slot {
    func shifted(by delta: Int) -> Slot {
        switch self {
        case .object(let offset): return .object(offset: offset + delta)
        case .string(let offset): return .string(offset: offset + delta)
        case .bridgeObject(let offset): return .bridgeObject(offset: offset + delta)
        case .function(let offset): return .function(offset: offset + delta)
        case .existential(let offset): return .existential(offset: offset + delta)
        case .classExistential(let offset): return .classExistential(offset: offset + delta)
        case .enumeration(let offset, let layout): return .enumeration(offset: offset + delta, layout: layout)
        case .opaque(let offset, let type): return .opaque(offset: offset + delta, type: type)
        }
    }
}
