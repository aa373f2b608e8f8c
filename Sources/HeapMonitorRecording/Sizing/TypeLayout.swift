/// A named part of a value, for referent trees.
struct FieldLayout {
    let name: String
    let offset: Int
    let type: Metadata
    /// For a field reflected as `()` that takes room (see `Slot.untyped`):
    /// the 8-byte words from `offset` that hold its value.
    var untypedWords = 0

    /// The slot of an untyped field's words, relative to its holder.
    var untypedSlot: Slot? {
        untypedWords > 0 ? .untyped(offset: (offset + 7) & ~7, words: untypedWords) : nil
    }
}

/// A field of an object as heap graphs walk it, frozen with the slots of
/// its type so that every object's fields are read without reference
/// counting. A layout's steps are in the order of its `fields`.
struct FieldStep {
    /// Where `slots` are read from, relative to the holder.
    let offset: Int
    /// The slots of the field's type, or the one slot of an untyped
    /// field's words; empty when the field cannot hold a reference.
    let slots: UnsafeBufferPointer<Slot>
}

/// A weak or unowned stored property or capture of an object: never
/// followed, recorded in heap graphs as a reference that holds nothing.
struct WeakFieldLayout {
    let name: String
    let offset: Int
    let ownership: ReferenceOwnership
}

/// One case of an enum; payload cases come first, in tag order.
struct EnumCaseLayout {
    let name: String
    let payload: Metadata?
    let isIndirect: Bool
}

/// How to walk values of one type: computed once per type, then reused.
final class TypeLayout {
    let metadata: Metadata
    /// Inline bytes of one value (for classes: of the instance's stored properties).
    let size: Int
    /// The flattened places that lead outside the value, while building.
    var slots: [Slot] = []
    /// `slots`, frozen once built: the traversal reads them without reference
    /// counting.
    private(set) var frozenSlots = UnsafeBufferPointer<Slot>(start: nil, count: 0)
    /// Direct parts with names, for referent trees.
    var fields: [FieldLayout] = []
    /// An object's own weak and unowned references (not those nested in
    /// its fields' values).
    var weakFields: [WeakFieldLayout] = []
    /// `fields` as heap graphs walk them, once asked for
    /// (`SizingEngine.fieldSteps(of:)`): every field of every object is
    /// labelled.
    private(set) var fieldSteps: UnsafeBufferPointer<FieldStep>?
    /// The slots of untyped fields' steps.
    private var untypedFieldSlots = UnsafeMutableBufferPointer<Slot>(start: nil, count: 0)
    var cases: [EnumCaseLayout] = []
    var shape: ObjectShape = .plain
    /// Part of the type could not be introspected; it is sized flat only.
    var isOpaque = false
    /// The word taken for metadata failed `MetadataCheck`: a dangling
    /// reference or another kind of memory. Nothing of it is read or counted.
    var isUnreadable = false

    /// Multi-payload enums may keep their tag in the payload's spare bits, so
    /// their payload is read from a projected copy.
    var needsProjection = false

    init(metadata: Metadata, size: Int) {
        self.metadata = metadata
        self.size = size
    }

    deinit {
        frozenSlots.deallocate()
        fieldSteps?.deallocate()
        untypedFieldSlots.deallocate()
    }

    func freeze() {
        frozenSlots.deallocate()
        let buffer = UnsafeMutableBufferPointer<Slot>.allocate(capacity: slots.count)
        _ = buffer.initialize(from: slots)
        frozenSlots = UnsafeBufferPointer(buffer)
    }

    /// Freezes `fieldSteps`, given the frozen slots of each field's type
    /// (layouts whose owner outlives this one).
    func freezeFieldSteps(typeSlots: [UnsafeBufferPointer<Slot>]) {
        untypedFieldSlots = .allocate(capacity: fields.count { $0.untypedWords > 0 })
        let steps = UnsafeMutableBufferPointer<FieldStep>.allocate(capacity: fields.count)
        var untyped = 0
        for (index, field) in fields.enumerated() {
            guard let slot = field.untypedSlot else {
                steps.initializeElement(
                    at: index, to: FieldStep(offset: field.offset, slots: typeSlots[index]))
                continue
            }
            untypedFieldSlots.initializeElement(at: untyped, to: slot)
            let slots = UnsafeBufferPointer(rebasing: untypedFieldSlots[untyped..<untyped + 1])
            steps.initializeElement(at: index, to: FieldStep(offset: 0, slots: slots))
            untyped += 1
        }
        fieldSteps = UnsafeBufferPointer(steps)
    }

    var stride: Int { metadata.stride }
}

extension Unmanaged where Instance == TypeLayout {
    /// The frozen slots of a layout its builder keeps alive, read without a retain.
    @inline(__always)
    var slots: UnsafeBufferPointer<Slot> { _withUnsafeGuaranteedRef { $0.frozenSlots } }

    /// The stride of the layout's type, read without a retain.
    @inline(__always)
    var stride: Int { _withUnsafeGuaranteedRef { $0.stride } }
}
