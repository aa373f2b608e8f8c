import CHeapMonitor
import HeapMonitorModel

/// The traversal behind every size: reads values in place through their
/// `TypeLayout`s, counts each heap block once, and keeps pending objects on an
/// explicit stack so that a long chain cannot overflow the thread's stack.
///
/// It reads memory without retaining. Every word taken for metadata is
/// checked before it is read through (`MetadataCheck`). An engine made with
/// `checkingAddresses` also proves each object's header readable and skips
/// objects in their deinit: for heaps that may hold dangling references — a
/// forked child's frozen image of a running program, or a leak scan.
struct SizingEngine: ~Copyable {
    var layouts: LayoutBuilder
    /// Readable memory, when addresses are checked (kept alive for `map`).
    private let memory: MemoryMap?
    /// `memory`'s C map, read in hot loops without reference counting.
    private let map: UnsafeMutablePointer<hm_memory_map>?
    /// Heap blocks already counted, across calls, except uniquely referenced
    /// objects reached through an object (see `HeapObject.isUniquelyReferenced`)
    /// unless every object is to be remembered.
    var seen = AddressSet()
    /// Whether uniquely referenced objects go into `seen` too: for a
    /// `Sizer`, whose caller may pass one of them as a later call's root.
    private let remembersEveryObject: Bool
    /// Objects the caller excluded: checked even when uniquely referenced.
    private var excluded = AddressSet(capacity: 16)
    /// Whether references being queued are held by the root value itself.
    private var walkingRoot = false
    /// The object being sized, if the root is an object: counted already
    /// when a leaked cycle of uniquely referenced objects leads back to it.
    var rootObject: UInt = 0
    /// Bytes counted so far, across calls.
    private(set) var total = 0
    /// Types met that could not be fully introspected (sized flat).
    private(set) var opaqueTypes: Set<Metadata> = []
    private var pending = AddressStack()
    private let batch = UnsafeMutablePointer<UInt>.allocate(capacity: SizingEngine.batchSize)
    private let batchPlans = UnsafeMutablePointer<ObjectPlan>.allocate(capacity: SizingEngine.batchSize)
    /// Direct-mapped memo in front of `layouts` for the per-object lookup.
    private var memo = LayoutMemo()
    /// Bytes before each block that must be readable too.
    private let blockHeader: UInt

    /// An engine; `layouts` built earlier are reused (their checks start
    /// afresh, against memory as it is now).
    init(
        checkingAddresses: Bool = false, layouts: LayoutBuilder? = nil,
        blockHeader: UInt = SizingEngine.allocatorBlockHeader, remembersEveryObject: Bool = false
    ) {
        self.remembersEveryObject = remembersEveryObject
        memory = checkingAddresses ? MemoryMap() : nil
        self.blockHeader = blockHeader
        map = memory?.map
        self.layouts = layouts ?? LayoutBuilder()
        self.layouts.startAnalysis(memory: memory)
    }

    /// Whether the object at `address` may be read: with checked addresses,
    /// its heap header is mapped, and so is the block header before it where
    /// the allocator keeps one that sizes read (glibc). Other allocators
    /// (jemalloc, the sanitizers') keep none: an object at the start of a
    /// mapping is readable there though the word before it is not.
    @inline(__always)
    func isReadableObject(_ address: UInt) -> Bool {
        guard let map else { return true }
        return hm_memory_map_contains(map, address &- blockHeader, Int(16 + blockHeader), 0) != 0
    }

    /// Bytes before a block that `hm_block_size` reads: this allocator's.
    static let allocatorBlockHeader: UInt = hm_allocator_is_glibc() != 0 ? 8 : 0

    /// Whether the object at `address` is a live object whose type the
    /// sizer can read: for the objects an analysis starts from. With checked
    /// addresses, one in its deinit is not (its fields may be released
    /// already); objects reached through a live object's strong references
    /// are not checked for that, since a strong reference keeps its target
    /// out of deinit.
    ///
    /// A word that may be anything (a global's, a noncopyable value's) is
    /// `conservative`: every read it leads to is first asked of the kernel
    /// too, since the map may predate frees that unmapped memory.
    mutating func isLiveObject(_ address: UInt, conservative: Bool = false) -> Bool {
        guard HeapObject.isPlausible(address), isReadableObject(address) else { return false }
        if conservative, hm_is_mapped(address &- blockHeader, Int(16 + blockHeader)) == 0 { return false }
        let object = HeapObject(UnsafeRawPointer(bitPattern: address)!)
        if let map, !object.isImmortal {
            if let sideTable = object.sideTable {
                let table = UInt(bitPattern: sideTable)
                guard hm_memory_map_contains(map, table, 24, 0) != 0,
                    !conservative || hm_is_mapped(table, 24) != 0
                else { return false }
            }
            guard !object.isDeiniting else { return false }
        }
        if conservative, hm_is_mapped(UInt(bitPattern: object.metadata.pointer), 64) == 0 { return false }
        return objectPlan(object.metadata).isReadable
    }

    deinit {
        batch.deallocate()
        batchPlans.deallocate()
    }

    // MARK: Entry points

    /// Heap bytes reachable from the value at `address` that were not counted
    /// before; the value's own inline bytes are the caller's to add.
    mutating func heapSize(ofValueAt address: UnsafeRawPointer, layout: TypeLayout) -> Int {
        let before = total
        walkingRoot = true
        walk(address, layout)
        drainPending()
        return total - before
    }

    /// Bytes of the object at `address` and all it reaches that were not counted
    /// before. An object counted before adds nothing.
    mutating func heapSize(ofObject address: UInt) -> Int {
        let before = total
        rootObject = address
        walkingRoot = true
        enqueue(address)
        drainPending()
        return total - before
    }

    /// Bytes of an excluded object (a tracked one) and of all it reaches that
    /// were not counted before and are not excluded: its size in a snapshot.
    /// Returns its size and its own block's size.
    mutating func heapSize(ofExcluded address: UInt) -> (size: Int, flatSize: Int) {
        let before = total
        guard var flat = claim(address, excludedToo: true), flat > 0 else { return (0, 0) }
        let object = UnsafeRawPointer(bitPattern: address)!
        let plan = objectPlan(HeapObject(object).metadata)
        rootObject = address
        flat += claimOwnedBuffers(of: object, shape: plan.shape)
        walkContents(of: object, plan)
        drainPending()
        return (total - before, flat)
    }

    /// The heap objects the object at `address` references directly and
    /// strongly (its fields, a container's elements, a closure's captures),
    /// appended to `out`; nothing is counted.
    mutating func directReferences(ofObject address: UInt, into out: inout [UInt]) {
        let object = UnsafeRawPointer(bitPattern: address)!
        walkContents(of: object, objectPlan(HeapObject(object).metadata))
        takePending(into: &out)
    }

    /// `layout`'s fields as heap graphs walk them, in order.
    mutating func fieldSteps(of layout: TypeLayout) -> UnsafeBufferPointer<FieldStep> {
        if let known = layout.fieldSteps { return known }
        // Layouts live as long as the builder: their slots outlive the steps.
        let typeSlots = layout.fields.map { field in
            field.untypedWords > 0
                ? UnsafeBufferPointer(start: nil, count: 0) : valueLayout(field.type, trusted: true).frozenSlots
        }
        layout.freezeFieldSteps(typeSlots: typeSlots)
        return layout.fieldSteps!
    }

    /// The heap objects that `slots`, read from `address`, reference
    /// directly.
    mutating func directReferences(
        inSlots slots: UnsafeBufferPointer<Slot>, at address: UnsafeRawPointer, into out: inout [UInt]
    ) {
        walk(address, slots)
        takePending(into: &out)
    }

    /// Whether an object of this kind can hold a strong reference at all
    /// (string storage and plain-data objects cannot).
    mutating func mayHoldReferences(_ object: HeapObject) -> Bool {
        let plan = objectPlan(object.metadata)
        if !plan.slots.isEmpty { return true }
        switch plan.shape {
        case .arrayStorage(let element, _, _): return !element.slots.isEmpty
        case .dictionaryStorage(let key, let value, _, _): return !key.slots.isEmpty || !value.slots.isEmpty
        case .setStorage(let element, _, _): return !element.slots.isEmpty
        case .errorBox, .hashTrieNode: return true
        case .plain, .captures, .ownedBuffer: return false
        }
    }

    private mutating func takePending(into out: inout [UInt]) {
        while !pending.isEmpty {
            let count = pending.popBatch(into: batch, limit: Self.batchSize)
            for index in 0..<count { out.append(batch[index] & ~Self.viaRoot) }
        }
    }

    /// Marks the object as counted without counting it: its bytes and all it
    /// reaches only through it belong to someone else.
    mutating func exclude(_ address: UInt) {
        guard HeapObject.isPlausible(address) else { return }
        _ = seen.insert(address)
        _ = excluded.insert(address)
    }

    /// Marks the object as counted and returns its own block size (plus side
    /// table), or nil when it was counted before. Its contents are not walked.
    /// An excluded object is claimed only when `excluded` says it may be.
    mutating func claim(_ address: UInt, excludedToo: Bool = false) -> Int? {
        guard isLiveObject(address) else { return nil }
        let object = HeapObject(UnsafeRawPointer(bitPattern: address)!)
        if object.isImmortal { return 0 }
        guard seen.insert(address) || (excludedToo && excluded.contains(address)) else { return nil }
        let bytes = object.allocatedBytes
        total += bytes
        return bytes
    }

    /// Forgets what was counted; layouts are kept.
    mutating func reset() {
        seen.removeAll()
        excluded.removeAll()
        total = 0
    }

    // MARK: Traversal

    /// Queues the object at `address`; it is read when it is walked, so that
    /// each object's memory is touched once. `force` queues it for a
    /// visited-set check even when uniquely referenced (its holder is a root).
    @inline(__always)
    private mutating func enqueue(_ address: UInt) {
        guard HeapObject.isPlausible(address) else { return }
        pending.push(address | (walkingRoot ? Self.viaRoot : 0))
    }

    /// Tag bit on queued addresses (objects are 8-byte aligned).
    private static let viaRoot: UInt = 1

    /// Counts and walks every pending object, and all they reach.
    ///
    /// Objects are taken in batches, in three passes so that cache misses
    /// overlap instead of following one another: prefetch every header; read
    /// the headers, drop what was counted before and prefetch the contents of
    /// containers; then count and walk.
    mutating func drainPending() {
        walkingRoot = false
        while !pending.isEmpty {
            let count = pending.popBatch(into: batch, limit: Self.batchSize)
            for index in 0..<count {
                let address = batch[index] & ~Self.viaRoot
                hm_prefetch(UnsafeRawPointer(bitPattern: address - 8))
                hm_prefetch(UnsafeRawPointer(bitPattern: address + 56))
            }
            var accepted = 0
            for index in 0..<count {
                guard let address = admit(batch[index]) else { continue }
                let object = UnsafeRawPointer(bitPattern: address)!
                let plan = objectPlan(HeapObject(object).metadata)
                guard plan.isReadable else { continue }
                Self.prefetchContents(of: object, plan.shape)
                batch[accepted] = address
                (batchPlans + accepted).initialize(to: plan)
                accepted += 1
            }
            for index in 0..<accepted {
                let object = HeapObject(UnsafeRawPointer(bitPattern: batch[index])!)
                total += object.allocatedBytes
                let plan = batchPlans[index]
                if case .ownedBuffer = plan.shape { claimOwnedBuffers(of: object.address, shape: plan.shape) }
                walkContents(of: object.address, plan)
            }
        }
    }

    static let batchSize = 16

    /// The untagged address of a queued object that is to be counted now, or
    /// nil when it is static or was counted before.
    @inline(__always)
    private mutating func admit(_ tagged: UInt) -> UInt? {
        let address = tagged & ~Self.viaRoot
        guard isReadableObject(address) else { return nil }
        let object = HeapObject(UnsafeRawPointer(bitPattern: address)!)
        if object.isImmortal { return nil }
        // Unchecked memory is the caller's live heap: a side table may be
        // read there, and a weakly referenced object held once needs no
        // visited-set entry either.
        let unique =
            !remembersEveryObject
            && (map == nil ? object.isUniquelyReferencedReadingSideTable : object.isUniquelyReferenced)
        if tagged & Self.viaRoot != 0 || !unique {
            guard seen.insert(address) else { return nil }
        } else if address == rootObject || (excluded.count > 0 && excluded.contains(address)) {
            // A uniquely referenced object is reached again only around a
            // cycle that nothing else holds (a leak) — through the root.
            return nil
        }
        return address
    }

    /// Starts loading the first tail-allocated contents of a container.
    @inline(__always)
    private static func prefetchContents(of object: UnsafeRawPointer, _ shape: ObjectShape) {
        switch shape {
        case .arrayStorage(_, let elementsOffset, _):
            hm_prefetch(object + elementsOffset)
        case .dictionaryStorage(_, _, let fields, _):
            let keys = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            hm_prefetch(keys)
            hm_prefetch(keys + 64)
            hm_prefetch(object.load(fromByteOffset: fields.values!, as: UnsafeRawPointer.self))
        case .setStorage(_, let fields, _):
            hm_prefetch(object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self))
        default:
            break
        }
    }

    /// Counts heap blocks an object owns through a raw pointer.
    @discardableResult
    mutating func claimOwnedBuffers(of object: UnsafeRawPointer, shape: ObjectShape) -> Int {
        guard case .ownedBuffer(let pointerOffset, let ownership) = shape,
            let buffer = object.load(fromByteOffset: pointerOffset, as: UnsafeRawPointer?.self)
        else { return 0 }
        let size: Int
        switch ownership {
        case .unlessDeallocator(let offset):
            // Foundation's `Data` frees its bytes itself only when given no deallocator.
            guard object.load(fromByteOffset: offset, as: UInt.self) == 0 else { return 0 }
            size = hm_block_size(buffer)
        case .mallocBlock(let offset, let width):
            let capacity =
                width == 4
                ? Int(object.load(fromByteOffset: offset, as: UInt32.self))
                : object.load(fromByteOffset: offset, as: Int.self)
            size = hm_plausible_block_size(buffer, max(0, capacity))
        }
        guard size > 0, seen.insert(UInt(bitPattern: buffer)) else { return 0 }
        total += size
        return size
    }

    /// The walk plan for objects with this metadata (memoised: called per object).
    @inline(__always)
    mutating func objectPlan(_ metadata: Metadata) -> ObjectPlan {
        if let plan = memo[metadata] { return plan }
        let plan = ObjectPlan(objectLayout(metadata))
        memo[metadata] = plan
        return plan
    }

    mutating func objectLayout(_ metadata: Metadata) -> TypeLayout {
        let layout = layouts.objectLayout(for: metadata)
        if layout.isOpaque { opaqueTypes.insert(metadata) }
        return layout
    }

    /// The layout of values of `metadata`'s type; `trusted` when the metadata
    /// came from the runtime rather than from a word in memory (see
    /// `LayoutBuilder.layout(for:trusted:)`).
    mutating func valueLayout(_ metadata: Metadata, trusted: Bool = false) -> TypeLayout {
        let layout = layouts.layout(for: metadata, trusted: trusted)
        if layout.isOpaque { opaqueTypes.insert(metadata) }
        return layout
    }

    /// Walks an object's stored properties and, for the runtime's containers,
    /// their tail-allocated contents.
    mutating func walkContents(of object: UnsafeRawPointer, _ plan: ObjectPlan) {
        walkFields(object, plan.slots)
        switch plan.shape {
        case .plain, .captures, .ownedBuffer:
            break
        case .arrayStorage(let element, let elementsOffset, let indexing):
            let elements = element.slots
            guard !elements.isEmpty else { return }
            let stride = element._withUnsafeGuaranteedRef { $0.stride }
            let (first, second) = indexing.runs(in: object)
            walkElements(
                object + elementsOffset + first.lowerBound * stride, count: first.count, stride: stride, elements)
            walkElements(
                object + elementsOffset + second.lowerBound * stride, count: second.count, stride: stride, elements)
        case .dictionaryStorage(let key, let value, let fields, let bitmapOffset):
            let keys = key.slots, values = value.slots
            guard !keys.isEmpty || !values.isEmpty else { return }
            let keyStride = key._withUnsafeGuaranteedRef { $0.stride }
            let valueStride = value._withUnsafeGuaranteedRef { $0.stride }
            let keyBase = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            let valueBase = object.load(fromByteOffset: fields.values!, as: UnsafeRawPointer.self)
            forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                engine.walkElements(keyBase + bucket * keyStride, count: 1, stride: keyStride, keys)
                engine.walkElements(valueBase + bucket * valueStride, count: 1, stride: valueStride, values)
            }
        case .setStorage(let element, let fields, let bitmapOffset):
            let elements = element.slots
            guard !elements.isEmpty else { return }
            let stride = element._withUnsafeGuaranteedRef { $0.stride }
            let base = object.load(fromByteOffset: fields.keys, as: UnsafeRawPointer.self)
            forEachOccupiedBucket(object, fields, bitmapOffset) { engine, bucket in
                engine.walkElements(base + bucket * stride, count: 1, stride: stride, elements)
            }
        case .hashTrieNode(let node):
            let (children, childCount, items, itemCount) = node.contents(of: object)
            walkElements(children, count: childCount, stride: node.child.stride, node.child.slots)
            walkElements(items, count: itemCount, stride: node.itemStride, node.key.slots)
            walkElements(items + node.valueOffset, count: itemCount, stride: node.itemStride, node.value.slots)
        case .errorBox:
            guard let (value, type) = errorBoxValue(object) else { return }
            walk(value, valueLayout(type).frozenSlots)
        }
    }

    /// Where a boxed `Error` keeps its value: after the heap header, the
    /// value's type and its `Error` conformance, at the value's alignment.
    /// Nil when the stored type fails its check.
    mutating func errorBoxValue(_ box: UnsafeRawPointer) -> (UnsafeRawPointer, Metadata)? {
        let type = Metadata(box.load(fromByteOffset: 16, as: UnsafeRawPointer.self))
        guard !valueLayout(type).isUnreadable else { return nil }
        let mask = type.alignmentMask
        return (box + ((32 + mask) & ~mask), type)
    }

    /// The name of `type` for reports, resolved once per type and kept with
    /// the layouts (so a forked child finds the names its parent resolved).
    mutating func typeName(_ type: Metadata) -> String { layouts.name(of: type) }

    /// Calls `body` for each occupied bucket of a native dictionary or set.
    mutating func forEachOccupiedBucket(
        _ storage: UnsafeRawPointer, _ fields: HashStorageFields, _ bitmapOffset: Int,
        _ body: (inout SizingEngine, Int) -> Void
    ) {
        guard storage.load(fromByteOffset: fields.count, as: Int.self) > 0 else { return }
        let scale = Int(storage.load(fromByteOffset: fields.scale, as: Int8.self))
        guard scale >= 0, scale < 48 else { return }
        let buckets = 1 << scale
        let bitmap = (storage + bitmapOffset).assumingMemoryBound(to: UInt.self)
        for word in 0..<((buckets + 63) / 64) {
            // Bits past the last bucket are set (the hash table's sentinel).
            let valid = buckets - word * 64
            var bits = valid >= 64 ? bitmap[word] : bitmap[word] & ((1 << UInt(valid)) - 1)
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                bits &= bits - 1
                body(&self, word * 64 + bit)
            }
        }
    }

    /// Walks `count` values laid out `stride` apart. Values that are
    /// nothing, one reference or one string (the common case: elements, a
    /// dictionary's keys and values) take no call.
    @inline(__always)
    private mutating func walkElements(
        _ base: UnsafeRawPointer, count: Int, stride: Int,
        _ slots: UnsafeBufferPointer<Slot>
    ) {
        guard count > 0, !slots.isEmpty else { return }
        if slots.count == 1 {
            switch slots[0] {
            case .object(let offset):
                for index in 0..<count { enqueue(base.load(fromByteOffset: index * stride + offset, as: UInt.self)) }
                return
            case .string(let offset):
                for index in 0..<count {
                    let word = base.load(fromByteOffset: index * stride + offset + 8, as: UInt.self)
                    if let storage = Self.stringStorage(word) { enqueue(storage) }
                }
                return
            default:
                break
            }
        }
        for index in 0..<count { walk(base + index * stride, slots) }
    }

    /// Walks the slots of a value of `layout` stored at `base`.
    mutating func walk(_ base: UnsafeRawPointer, _ layout: TypeLayout) {
        walk(base, layout.frozenSlots)
    }

    /// Walks `slots` of a value stored at `base`.
    mutating func walk(_ base: UnsafeRawPointer, _ slots: UnsafeBufferPointer<Slot>) {
        walkFields(base, slots)
    }

    /// `walk`, inlined where every object passes: the call's cost is a
    /// good part of an object's own.
    @inline(__always)
    private mutating func walkFields(_ base: UnsafeRawPointer, _ slots: UnsafeBufferPointer<Slot>) {
        for slot in slots {
            switch slot {
            case .object(let offset):
                enqueue(base.load(fromByteOffset: offset, as: UInt.self))
            case .string(let offset):
                if let storage = Self.stringStorage(base.load(fromByteOffset: offset + 8, as: UInt.self)) {
                    enqueue(storage)
                }
            case .bridgeObject(let offset):
                enqueue(Self.bridgedReference(base.load(fromByteOffset: offset, as: UInt.self)))
            case .function(let offset):
                enqueue(base.load(fromByteOffset: offset + 8, as: UInt.self))
            case .existential(let offset):
                walkExistential(base + offset)
            case .classExistential(let offset):
                enqueue(base.load(fromByteOffset: offset, as: UInt.self))
            case .enumeration(let offset, let enumLayout):
                enumLayout._withUnsafeGuaranteedRef { walkEnum(base + offset, $0) }
            case .opaque(_, let type):
                opaqueTypes.insert(type)
            case .untyped(let offset, let words):
                // Any word may be a reference or not: only proven objects
                // are followed, and only where memory is checked.
                guard map != nil else { break }
                for index in 0..<words {
                    let word = base.load(fromByteOffset: offset + 8 * index, as: UInt.self)
                    if isLiveObject(word, conservative: true) { enqueue(word) }
                }
            }
        }
    }

    /// The heap storage a `String` refers to, or nil for small (inline),
    /// immortal (literal) and foreign strings. The discriminator is the top
    /// nibble of the object word: b63 immortal, b61 small, b60 foreign.
    @inline(__always)
    static func stringStorage(_ objectWord: UInt) -> UInt? {
        let discriminator = objectWord >> 60
        guard discriminator & 0b1011 == 0 else { return nil }
        return objectWord & 0x0FFF_FFFF_FFFF_FFFF
    }

    /// The reference in a `Builtin.BridgeObject`, without its tag bits
    /// (x86_64 spare bits: the top nibble and the low three bits).
    @inline(__always)
    static func bridgedReference(_ word: UInt) -> UInt { word & 0x0FFF_FFFF_FFFF_FFF8 }

    /// The value inside an `Any`-like container: inline in its three-word
    /// buffer, or in a heap box the buffer points to (the box is an object).
    mutating func walkExistential(_ container: UnsafeRawPointer) {
        guard let raw = container.load(fromByteOffset: 24, as: UnsafeRawPointer?.self) else { return }
        let type = Metadata(raw)
        // The dynamic type is a word from memory: checked (by building its
        // layout) before its witnesses are read.
        let layout = valueLayout(type)
        guard !layout.isUnreadable else { return }
        if type.isStoredInlineInExistential {
            walk(container, layout)
        } else {
            enqueue(container.load(as: UInt.self))
        }
    }

    /// Reads the enum's case and walks its payload, from a projected copy when
    /// the tag may live in the payload's spare bits.
    // Out of line: its temporary buffer would give every caller a stack protector.
    @inline(never)
    mutating func walkEnum(_ value: UnsafeRawPointer, _ layout: TypeLayout) {
        guard let (payload, isIndirect) = enumPayload(value, layout) else { return }
        if layout.needsProjection {
            withUnsafeTemporaryAllocation(byteCount: max(layout.size, 8), alignment: 16) { copy in
                copy.baseAddress!.copyMemory(from: value, byteCount: layout.size)
                hm_enum_project(copy.baseAddress!, layout.metadata.pointer)
                walkPayload(UnsafeRawPointer(copy.baseAddress!), payload, isIndirect)
            }
        } else {
            walkPayload(value, payload, isIndirect)
        }
    }

    /// The payload type of the enum's current case, or nil for an empty case.
    func enumPayload(_ value: UnsafeRawPointer, _ layout: TypeLayout) -> (Metadata, Bool)? {
        let tag = Int(hm_enum_tag(value, layout.metadata.pointer))
        guard tag < layout.cases.count, let payload = layout.cases[tag].payload else { return nil }
        return (payload, layout.cases[tag].isIndirect)
    }

    private mutating func walkPayload(_ address: UnsafeRawPointer, _ payload: Metadata, _ isIndirect: Bool) {
        if isIndirect {
            enqueue(address.load(as: UInt.self))
        } else {
            walk(address, valueLayout(payload, trusted: true))
        }
    }
}

/// What the traversal needs of an object's layout, free of reference counting
/// (the layout itself is kept alive by the engine's `LayoutBuilder`).
struct ObjectPlan {
    let slots: UnsafeBufferPointer<Slot>
    let shape: ObjectShape
    /// False when the object's metadata failed its check: not an object.
    let isReadable: Bool
    /// The whole layout, kept alive by the engine's `LayoutBuilder`.
    let layout: Unmanaged<TypeLayout>

    init(_ layout: TypeLayout) {
        slots = layout.frozenSlots
        shape = layout.shape
        isReadable = !layout.isUnreadable
        self.layout = Unmanaged.passUnretained(layout)
    }
}

/// A small direct-mapped cache from metadata to object plan: objects of a few
/// types dominate any graph, and a dictionary lookup per object costs more.
private struct LayoutMemo: ~Copyable {
    private static let size = 64
    private let keys = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: size)
    private let values = UnsafeMutablePointer<ObjectPlan>.allocate(capacity: size)

    init() { keys.initialize(repeating: nil, count: Self.size) }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    @inline(__always)
    private static func index(_ metadata: Metadata) -> Int {
        Int(bitPattern: UInt(bitPattern: metadata.pointer) >> 4) & (size - 1)
    }

    subscript(metadata: Metadata) -> ObjectPlan? {
        get {
            let index = Self.index(metadata)
            return keys[index] == metadata.pointer ? values[index] : nil
        }
        nonmutating set {
            let index = Self.index(metadata)
            keys[index] = metadata.pointer
            (values + index).initialize(to: newValue!)
        }
    }
}

/// A stack of object addresses waiting to be walked.
private struct AddressStack: ~Copyable {
    private var base = UnsafeMutablePointer<UInt>.allocate(capacity: 1024)
    private var capacity = 1024
    private var count = 0

    deinit { base.deallocate() }

    @inline(__always)
    mutating func push(_ address: UInt) {
        if count == capacity {
            let grown = UnsafeMutablePointer<UInt>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        base[count] = address
        count += 1
    }

    var isEmpty: Bool { count == 0 }

    /// Moves up to `limit` addresses from the top into `buffer`; returns how many.
    @inline(__always)
    mutating func popBatch(into buffer: UnsafeMutablePointer<UInt>, limit: Int) -> Int {
        let taken = min(limit, count)
        count -= taken
        buffer.update(from: base + count, count: taken)
        return taken
    }
}
