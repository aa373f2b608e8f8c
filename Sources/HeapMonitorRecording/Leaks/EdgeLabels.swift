/// Names the reference from one heap object to another the way a reader of
/// the source would: a stored property, an element (`[3]`, `["key"]`), a
/// closure capture.
struct EdgeLabeler: ~Copyable {
    var engine: SizingEngine
    /// References found in one value, reused from object to object.
    private var scratch: [UInt] = []

    init(engine: consuming SizingEngine) { self.engine = engine }

    /// Where a reference sits in its holder, before it is spelled.
    enum Place: Equatable {
        /// A stored property or capture, by its index among the holder
        /// layout's fields: its name is looked up once per type, not
        /// copied per edge (`name(of:in:)`).
        case field(index: Int)
        case element(Int)
        case key(String)
        case keyOfEntry(String)
        case value
        /// From a node of a collection's own structure to another (a
        /// trie's inner nodes): spelled as nothing.
        case inside
    }

    /// Every strong reference of `source`, with where it sits, in one pass
    /// over its fields or elements: for whole heap graphs.
    mutating func references(of source: UInt, into out: inout [(target: UInt, place: Place)]) {
        let object = UnsafeRawPointer(bitPattern: source)!
        let layout = engine.objectPlan(HeapObject(object).metadata).layout.takeUnretainedValue()
        var found: [UInt] = []
        swap(&found, &scratch)
        defer { swap(&found, &scratch) }
        func collect(
            _ engine: inout SizingEngine, _ address: UnsafeRawPointer, _ slots: UnsafeBufferPointer<Slot>,
            _ place: Place
        ) {
            // A value that is one reference (a class-typed element, an
            // optional one) is read here rather than walked.
            if slots.count == 1, case .object(let offset) = slots[0] {
                let target = address.load(fromByteOffset: offset, as: UInt.self)
                if HeapObject.isPlausible(target) { out.append((target, place)) }
                return
            }
            found.removeAll(keepingCapacity: true)
            engine.directReferences(inSlots: slots, at: address, into: &found)
            for target in found { out.append((target, place)) }
        }
        switch layout.shape {
        case .plain, .captures, .ownedBuffer:
            for (index, step) in engine.fieldSteps(of: layout).enumerated() where !step.slots.isEmpty {
                collect(&engine, object + step.offset, step.slots, .field(index: index))
            }
        case .errorBox:
            found.removeAll()
            engine.directReferences(ofObject: source, into: &found)
            for target in found { out.append((target, .value)) }
        case .arrayStorage(let element, let elementsOffset, let indexing):
            let type = element.takeUnretainedValue()
            guard !type.slots.isEmpty else { return }
            indexing.forEachSlot(in: object) { slot, position in
                let address = object + elementsOffset + slot * type.metadata.stride
                collect(&engine, address, type.frozenSlots, .element(position))
            }
        case .dictionaryStorage(let key, let value, let fields, let bitmapOffset):
            let keyType = key.takeUnretainedValue(), valueType = value.takeUnretainedValue()
            let keys = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            let values = object.load(fromByteOffset: fields.values!, as: UnsafeRawPointer.self)
            engine.forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                let keyAddress = keys + bucket * keyType.metadata.stride
                let name = SizingEngine.describeKey(keyAddress, keyType.metadata, bucket)
                if !valueType.slots.isEmpty {
                    collect(&engine, values + bucket * valueType.metadata.stride, valueType.frozenSlots, .key(name))
                }
                if !keyType.slots.isEmpty { collect(&engine, keyAddress, keyType.frozenSlots, .keyOfEntry(name)) }
            }
        case .setStorage(let element, let fields, let bitmapOffset):
            let type = element.takeUnretainedValue()
            let base = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            engine.forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                let address = base + bucket * type.metadata.stride
                let key = SizingEngine.describeKey(address, type.metadata, bucket)
                collect(&engine, address, type.frozenSlots, .key(key))
            }
        case .hashTrieNode(let node):
            let (children, childCount, items, itemCount) = node.contents(of: object)
            let child = node.child.takeUnretainedValue()
            for index in 0..<childCount {
                collect(&engine, children + index * child.stride, child.frozenSlots, .inside)
            }
            let keyType = node.key.takeUnretainedValue(), valueType = node.value.takeUnretainedValue()
            for index in 0..<itemCount {
                let item = node.item(index, of: itemCount, items: items)
                let name = SizingEngine.describeKey(item.key, keyType.metadata, index)
                if !valueType.slots.isEmpty { collect(&engine, item.value, valueType.frozenSlots, .key(name)) }
                if !keyType.slots.isEmpty { collect(&engine, item.key, keyType.frozenSlots, .keyOfEntry(name)) }
            }
        }
    }

    /// How `place`, a place in `source`, reads as a reader of the source
    /// would write it: `handler`, `[3]`, `["key"]`, `["key"].key`, `value`.
    mutating func name(of place: Place, in source: UInt) -> String {
        switch place {
        case .field(let index):
            let metadata = HeapObject(UnsafeRawPointer(bitPattern: source)!).metadata
            return engine.objectPlan(metadata).layout.takeUnretainedValue().fields[index].name
        case .element(let position): return "[\(position)]"
        case .key(let key): return "[\(key)]"
        case .keyOfEntry(let key): return "[\(key)].key"
        case .value: return "value"
        case .inside: return ""
        }
    }

    /// The part of `source` that references `target` directly.
    mutating func label(from source: UInt, to target: UInt) -> String {
        let object = UnsafeRawPointer(bitPattern: source)!
        let layout = engine.objectLayout(HeapObject(object).metadata)
        switch layout.shape {
        case .plain, .captures, .ownedBuffer:
            var references: [UInt] = []
            for (field, step) in zip(layout.fields, engine.fieldSteps(of: layout)) {
                references.removeAll(keepingCapacity: true)
                engine.directReferences(inSlots: step.slots, at: object + step.offset, into: &references)
                if references.contains(target) { return field.name }
            }
        case .errorBox:
            return "value"
        case .arrayStorage(let element, let elementsOffset, let indexing):
            let type = element.takeUnretainedValue()
            var found: String?
            indexing.forEachSlot(in: object) { slot, position in
                if found == nil,
                    Self.holds(&engine, object + elementsOffset + slot * type.metadata.stride, type, target)
                {
                    found = "[\(position)]"
                }
            }
            if let found { return found }
        case .dictionaryStorage(let key, let value, let fields, let bitmapOffset):
            let keyType = key.takeUnretainedValue(), valueType = value.takeUnretainedValue()
            let keys = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            let values = object.load(fromByteOffset: fields.values!, as: UnsafeRawPointer.self)
            var found: String?
            engine.forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                guard found == nil else { return }
                let keyAddress = keys + bucket * keyType.metadata.stride
                let name = "[\(SizingEngine.describeKey(keyAddress, keyType.metadata, bucket))]"
                if Self.holds(&engine, values + bucket * valueType.metadata.stride, valueType, target) {
                    found = name
                } else if Self.holds(&engine, keyAddress, keyType, target) {
                    found = name + ".key"
                }
            }
            if let found { return found }
        case .setStorage(let element, let fields, let bitmapOffset):
            let type = element.takeUnretainedValue()
            let base = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            var found: String?
            engine.forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                guard found == nil else { return }
                let address = base + bucket * type.metadata.stride
                if Self.holds(&engine, address, type, target) {
                    found = "[\(SizingEngine.describeKey(address, type.metadata, bucket))]"
                }
            }
            if let found { return found }
        case .hashTrieNode:
            var references: [(target: UInt, place: Place)] = []
            self.references(of: source, into: &references)
            if let found = references.first(where: { $0.target == target }) { return name(of: found.place, in: source) }
        }
        return "?"
    }

    /// Whether the value of `layout` at `address` references `target` directly.
    private static func holds(
        _ engine: inout SizingEngine, _ address: UnsafeRawPointer, _ layout: TypeLayout,
        _ target: UInt
    ) -> Bool {
        var references: [UInt] = []
        engine.directReferences(inSlots: layout.frozenSlots, at: address, into: &references)
        return references.contains(target)
    }
}
