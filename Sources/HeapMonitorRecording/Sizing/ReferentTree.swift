import HeapMonitorModel

/// Per-referent sizing: the same traversal as `SizingEngine`, stopping at each
/// named referent down to a resolution level, then sizing whole below it.
///
/// Levels: a class instance's stored properties, a struct's or tuple's
/// fields, a collection's elements (`[i]`, `[key]`) and a closure's captures are
/// its direct referents (level 1). Wrappers that users do not think of as a
/// level are see-through: optionals, existentials, indirect-enum boxes, and the
/// storage object behind an array, dictionary, set or string, whose bytes are
/// the collection's own flat size.
extension SizingEngine {
    /// Where a value starts once existential wrappers are opened.
    enum Root {
        case object(UInt)
        case value(UnsafeRawPointer, Metadata)
    }

    /// Opens existential containers: a class-bound one yields its object, an
    /// opaque one its inline or boxed value (the box is not counted: at the root
    /// it is an artefact of passing the value).
    func openRoot(_ address: UnsafeRawPointer, _ type: Metadata) -> Root {
        var address = address, type = type
        while type.kind == .existential {
            switch type.existentialRepresentation {
            case .classBound, .error:
                return .object(address.load(as: UInt.self))
            case .metatype, .unknown:
                return .value(address, type)
            case .opaque:
                guard let dynamic = address.load(fromByteOffset: 24, as: UnsafeRawPointer?.self) else {
                    return .value(address, type)
                }
                let contents = Metadata(dynamic)
                if !contents.isStoredInlineInExistential {
                    address = Self.boxedValue(address.load(as: UnsafeRawPointer.self), contents)
                }
                type = contents
            }
        }
        return type.kind == .class ? .object(address.load(as: UInt.self)) : .value(address, type)
    }

    /// A box's value follows the two-word heap header at the value's alignment.
    static func boxedValue(_ box: UnsafeRawPointer, _ type: Metadata) -> UnsafeRawPointer {
        let mask = type.alignmentMask
        return box + ((16 + mask) & ~mask)
    }

    // MARK: Objects

    /// The node for the object at `address`, or nil when it was counted before.
    mutating func objectNode(
        _ address: UInt, name: String, typeName: String? = nil, level: Int,
        excludedToo: Bool = false
    ) -> SizedNode? {
        guard let flat = claim(address, excludedToo: excludedToo) else { return nil }
        let object = HeapObject(UnsafeRawPointer(bitPattern: address)!)
        let layout = objectLayout(object.metadata)
        var node = SizedNode(
            name: name, typeName: typeName ?? displayName(of: layout),
            flatSize: flat, isOpaque: layout.isOpaque)
        guard flat > 0 else { return node }  // static object: nothing on the heap
        node.flatSize += claimOwnedBuffers(of: object.address, shape: layout.shape)
        if level <= 0 {
            let before = total
            walkContents(of: object.address, ObjectPlan(layout))
            drainPending()
            node.size = node.flatSize + (total - before)
        } else {
            node.referents = referents(of: object.address, layout: layout, level: level - 1)
            node.size = node.referents.reduce(node.flatSize) { $0 + $1.size }
        }
        return node
    }

    mutating func displayName(of layout: TypeLayout) -> String {
        if layout.isUnreadable { return "unreadable object" }
        switch layout.metadata.kind {
        // Closure contexts are named for their function type by the caller;
        // reached otherwise, these objects are boxes (captured `var`s, indirect
        // enum payloads, existential values).
        case .heapLocalVariable, .heapGenericLocalVariable: return "box"
        case .errorObject: return "error box"
        default: return typeName(layout.metadata)
        }
    }

    private mutating func referents(of object: UnsafeRawPointer, layout: TypeLayout, level: Int) -> [SizedNode] {
        var nodes: [SizedNode] = []
        func add(_ node: SizedNode?) { if let node, node.size > 0 { nodes.append(node) } }
        switch layout.shape {
        case .plain, .captures, .ownedBuffer:
            for field in layout.fields {
                add(valueNode(object + field.offset, field.type, name: field.name, level: level))
            }
        case .errorBox:
            if let (value, type) = errorBoxValue(object) { add(valueNode(value, type, name: "value", level: level)) }
        case .arrayStorage(let elementLayout, let elementsOffset, let indexing):
            let element = elementLayout.takeUnretainedValue().metadata
            guard !elementLayout.slots.isEmpty else { break }
            indexing.forEachSlot(in: object) { slot, position in
                add(
                    valueNode(
                        object + elementsOffset + slot * element.stride, element, name: "[\(position)]", level: level))
            }
        case .dictionaryStorage(let keyLayout, let valueLayout, let fields, let bitmapOffset):
            let key = keyLayout.takeUnretainedValue().metadata, value = valueLayout.takeUnretainedValue().metadata
            let keyBase = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            let valueBase = object.load(fromByteOffset: fields.values!, as: UnsafeRawPointer.self)
            forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                let keyAddress = keyBase + bucket * key.stride
                add(
                    engine.entryNode(
                        key: (keyAddress, key), value: (valueBase + bucket * value.stride, value),
                        index: bucket, level: level))
            }
        case .hashTrieNode(let node):
            let (children, childCount, items, itemCount) = node.contents(of: object)
            let child = node.child.takeUnretainedValue().metadata
            for index in 0..<childCount {
                add(valueNode(children + index * child.stride, child, name: "[\(index)]", level: level))
            }
            let key = node.key.takeUnretainedValue().metadata, value = node.value.takeUnretainedValue().metadata
            for index in 0..<itemCount {
                let item = node.item(index, of: itemCount, items: items)
                add(entryNode(key: (item.key, key), value: (item.value, value), index: index, level: level))
            }
        case .setStorage(let elementLayout, let fields, let bitmapOffset):
            let element = elementLayout.takeUnretainedValue().metadata
            let base = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                let address = base + bucket * element.stride
                add(
                    engine.valueNode(
                        address, element, name: "[\(Self.describeKey(address, element, bucket))]", level: level))
            }
        }
        return nodes
    }

    /// A dictionary entry's node, named for its key (`index` when the key
    /// has no short spelling), with its key and value as referents.
    private mutating func entryNode(
        key: (address: UnsafeRawPointer, type: Metadata), value: (address: UnsafeRawPointer, type: Metadata),
        index: Int, level: Int
    ) -> SizedNode {
        var entry = SizedNode(
            name: "[\(Self.describeKey(key.address, key.type, index))]",
            typeName: "(key: \(typeName(key.type)), value: \(typeName(value.type)))",
            flatSize: 0)
        for (part, address, type) in [("key", key.address, key.type), ("value", value.address, value.type)] {
            if let node = valueNode(address, type, name: part, level: level - 1), node.size > 0 {
                entry.referents.append(node)
            }
        }
        entry.size = entry.referents.reduce(0) { $0 + $1.size }
        if level <= 0 { entry.referents = [] }
        return entry
    }

    /// A readable key for strings and integers, else the bucket number.
    static func describeKey(_ address: UnsafeRawPointer, _ type: Metadata, _ bucket: Int) -> String {
        switch type {
        case Metadata(String.self): return String(reflecting: address.load(as: String.self))
        case Metadata(Int.self): return String(address.load(as: Int.self))
        default: return "#\(bucket)"
        }
    }

    // MARK: Values

    /// The node for the value of `type` at `address`; nil when it adds nothing.
    /// Callers pass types from the runtime, or words from memory they have
    /// checked already (an existential's contents, an error box's value).
    mutating func valueNode(_ address: UnsafeRawPointer, _ type: Metadata, name: String, level: Int) -> SizedNode? {
        let layout = valueLayout(type, trusted: true)
        guard !layout.slots.isEmpty else { return nil }
        switch type.kind {
        case .class:
            return objectNode(address.load(as: UInt.self), name: name, level: level)
        case .opaque where KnownTypes.nativeReferences.contains(type):
            return objectNode(address.load(as: UInt.self), name: name, level: level)
        case .existential:
            return existentialNode(address, type, name: name, level: level)
        case .function:
            return objectNode(
                address.load(fromByteOffset: 8, as: UInt.self), name: name,
                typeName: typeName(type), level: level)
        case .enum, .optional:
            return enumNode(address, layout, name: name, level: level)
        case .struct where type == KnownTypes.string:
            guard let storage = Self.stringStorage(address.load(fromByteOffset: 8, as: UInt.self)) else { return nil }
            return objectNode(storage, name: name, typeName: typeName(type), level: 0)
        case .struct where KnownTypes.isCollection(type):
            return collectionNode(address, layout, name: name, level: level)
        case .struct, .tuple, .fixedArray:
            guard level > 0 else { break }
            var nodes: [SizedNode] = []
            for field in layout.fields {
                if let node = valueNode(address + field.offset, field.type, name: field.name, level: level - 1),
                    node.size > 0
                {
                    nodes.append(node)
                }
            }
            return SizedNode(
                name: name, typeName: typeName(type), flatSize: 0, referents: nodes, isOpaque: layout.isOpaque)
        default:
            break
        }
        let bytes = heapSize(ofValueAt: address, layout: layout)
        return SizedNode(name: name, typeName: typeName(type), size: bytes, flatSize: 0, isOpaque: layout.isOpaque)
    }

    /// Arrays, dictionaries and sets are named for the value but sized as their
    /// storage object, whose elements are the referents.
    private mutating func collectionNode(
        _ address: UnsafeRawPointer, _ layout: TypeLayout,
        name: String, level: Int
    ) -> SizedNode? {
        for slot in layout.slots {
            switch slot {
            case .object(let offset), .classExistential(let offset):
                return objectNode(
                    address.load(fromByteOffset: offset, as: UInt.self), name: name,
                    typeName: typeName(layout.metadata), level: level)
            case .bridgeObject(let offset):
                return objectNode(
                    Self.bridgedReference(address.load(fromByteOffset: offset, as: UInt.self)),
                    name: name, typeName: typeName(layout.metadata), level: level)
            default:
                continue
            }
        }
        return nil
    }

    private mutating func existentialNode(
        _ address: UnsafeRawPointer, _ type: Metadata,
        name: String, level: Int
    ) -> SizedNode? {
        switch type.existentialRepresentation {
        case .classBound, .error: return objectNode(address.load(as: UInt.self), name: name, level: level)
        case .metatype, .unknown: return nil
        case .opaque: break
        }
        guard let dynamic = address.load(fromByteOffset: 24, as: UnsafeRawPointer?.self) else { return nil }
        let contents = Metadata(dynamic)
        guard !valueLayout(contents).isUnreadable else { return nil }
        if contents.isStoredInlineInExistential {
            return valueNode(address, contents, name: name, level: level)
        }
        return boxNode(address.load(as: UInt.self), contents, name: name, level: level)
    }

    /// A box is see-through: its bytes join the node of the value it holds.
    private mutating func boxNode(_ box: UInt, _ contents: Metadata, name: String, level: Int) -> SizedNode? {
        guard let flat = claim(box) else { return nil }
        let value = Self.boxedValue(UnsafeRawPointer(bitPattern: box)!, contents)
        var node =
            valueNode(value, contents, name: name, level: level)
            ?? SizedNode(name: name, typeName: typeName(contents), flatSize: 0)
        node.flatSize += flat
        node.size += flat
        return node
    }

    private mutating func enumNode(
        _ address: UnsafeRawPointer, _ layout: TypeLayout,
        name: String, level: Int
    ) -> SizedNode? {
        guard let (payload, isIndirect) = enumPayload(address, layout) else { return nil }
        func payloadNode(_ at: UnsafeRawPointer) -> SizedNode? {
            isIndirect
                ? boxNode(at.load(as: UInt.self), payload, name: name, level: level)
                : valueNode(at, payload, name: name, level: level)
        }
        guard layout.needsProjection else { return payloadNode(address) }
        return withUnsafeTemporaryAllocation(byteCount: max(layout.size, 8), alignment: 16) { copy in
            copy.baseAddress!.copyMemory(from: address, byteCount: layout.size)
            hm_enum_project(copy.baseAddress!, layout.metadata.pointer)
            return payloadNode(UnsafeRawPointer(copy.baseAddress!))
        }
    }
}

import CHeapMonitor
