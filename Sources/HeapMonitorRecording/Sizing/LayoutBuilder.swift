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
        let refusals = RuntimeLookups.refusals
        fill(layout)
        RuntimeLookups.note(DeferredLookup(metadata: metadata, need: .valueLayout), ifRefusedSince: refusals)
        layout.freeze()
        return layout
    }

    /// The name of `metadata`'s type, asked of the runtime once per type.
    mutating func name(of metadata: Metadata) -> String {
        if let known = names[metadata] { return known }
        let refusals = RuntimeLookups.refusals
        let name = metadata.name
        RuntimeLookups.note(DeferredLookup(metadata: metadata, need: .name), ifRefusedSince: refusals)
        names[metadata] = name
        return name
    }

    mutating func objectLayout(for metadata: Metadata) -> TypeLayout {
        if let known = objectLayouts[metadata] ?? unreadableLayouts[metadata] { return known }
        guard check.isObjectMetadata(metadata.pointer) else { return unreadable(metadata) }
        let refusals = RuntimeLookups.refusals
        let layout = makeObjectLayout(metadata)
        RuntimeLookups.note(DeferredLookup(metadata: metadata, need: .objectLayout), ifRefusedSince: refusals)
        layout.freeze()
        objectLayouts[metadata] = layout
        return layout
    }

    /// Makes, here, what a forked child deferred, checking its metadata as
    /// if read from memory: the child read it from a heap that has changed.
    mutating func make(_ lookup: DeferredLookup) {
        let metadata = lookup.metadata
        switch lookup.need {
        case .valueLayout: _ = layout(for: metadata)
        case .objectLayout: _ = objectLayout(for: metadata)
        case .name:
            guard names[metadata] == nil else { return }
            let readable =
                objectLayouts[metadata] != nil || valueLayouts[metadata] != nil
                || check.isTypeMetadata(metadata.pointer) || check.isObjectMetadata(metadata.pointer)
            if readable { _ = name(of: metadata) }
        }
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
                for field in fields.fields { appendSlots(of: field, to: layout) }
            }
        case .tuple:
            layout.fields = metadata.tupleElements.enumerated().map { index, element in
                FieldLayout(name: element.label ?? ".\(index)", offset: element.offset, type: element.type)
            }
            for field in layout.fields { appendSlots(of: field.type, at: field.offset, to: layout) }
        case .fixedArray:
            let (count, element) = metadata.fixedArray
            layout.fields = (0..<max(0, count)).map {
                FieldLayout(name: "[\($0)]", offset: $0 * element.stride, type: element)
            }
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
    func storedFields(of metadata: Metadata) -> (fields: [FieldLayout], weak: [WeakFieldLayout], isOpaque: Bool) {
        let chain = Array(metadata.ancestry)
        var fields: [FieldLayout] = []
        var weak: [WeakFieldLayout] = []
        // Where every stored property starts, weak ones too: the end of a
        // property reflected as `()` is where the next one starts.
        var starts: [Int] = []
        var isOpaque = false
        var declaredEmpty: Set<Int> = []
        for type in chain.reversed() {
            guard let descriptor = type.descriptor, let records = descriptor.fields else { continue }
            let arguments = type.genericArguments
            for index in 0..<records.count {
                let record = records[index]
                guard let offset = type.fieldOffset(index) else {
                    isOpaque = true
                    break
                }
                starts.append(offset)
                guard let name = record.typeName else { continue }
                guard name.ownership == .strong else {
                    weak.append(WeakFieldLayout(name: record.name, offset: offset, ownership: name.ownership))
                    continue
                }
                if let fieldType = name.resolve(in: descriptor, genericArguments: arguments) {
                    // `()` as a generic argument (`ManagedBuffer<(), UInt8>`'s
                    // header) is empty indeed, not a noncopyable value.
                    if fieldType.isEmptyTuple, name.isGenericParameter { declaredEmpty.insert(fields.count) }
                    fields.append(FieldLayout(name: record.name, offset: offset, type: fieldType))
                } else {
                    isOpaque = true
                }
            }
        }
        let end = metadata.kind == .class ? metadata.instanceSize : metadata.size
        for index in fields.indices where fields[index].type.isEmptyTuple && !declaredEmpty.contains(index) {
            let start = (fields[index].offset + 7) & ~7
            let next = starts.filter { $0 > fields[index].offset }.min() ?? end
            fields[index].untypedWords = max(0, (next - start) / 8)
            if fields[index].untypedWords > 0 { isOpaque = true }
        }
        return (fields, weak, isOpaque)
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

    /// Adds the slots of a stored property.
    private mutating func appendSlots(of field: FieldLayout, to layout: TypeLayout) {
        guard let slot = field.untypedSlot else {
            return appendSlots(of: field.type, at: field.offset, to: layout)
        }
        layout.slots.append(slot)
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
            layout.weakFields = fields.weak
            layout.isOpaque = fields.isOpaque
            for field in fields.fields { appendSlots(of: field, to: layout) }
            setSpecialShape(of: layout)
            return layout
        default:
            // Not an object this sizer knows how to read: flat size only.
            let layout = TypeLayout(metadata: metadata, size: 0)
            layout.isOpaque = true
            return layout
        }
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
        let sources = Int(descriptor.load(fromByteOffset: 4, as: UInt32.self))
        let bindings = Int(descriptor.load(fromByteOffset: 8, as: UInt32.self))
        // A closure formed in a generic context gets its generic arguments
        // from bindings or metadata sources; its capture types may name
        // them, and resolved without them the runtime aborts. Only names
        // that cannot mention a parameter are resolved there.
        let isGeneric = sources > 0 || bindings > 0
        var offset = firstCapture + 8 * bindings
        var captures: [FieldLayout] = []
        for index in 0..<captureCount {
            guard let raw = relativePointer(at: descriptor + 12 + 4 * index) else { break }
            let name = MangledName(raw)
            let label = "capture \(index)"
            let resolvable = !(isGeneric && name.mayMentionGenericParameter)
            if resolvable, let type = name.resolve() {
                let mask = type.alignmentMask
                offset = (offset + mask) & ~mask
                // `[weak x]` and `[unowned x]` captures take the strong type's
                // room but hold a side-table pointer or an unowned reference:
                // sizing follows strong references only.
                if name.ownership == .strong {
                    captures.append(FieldLayout(name: label, offset: offset, type: type))
                } else {
                    layout.weakFields.append(WeakFieldLayout(name: label, offset: offset, ownership: name.ownership))
                }
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
