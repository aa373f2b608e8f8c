import CHeapMonitor
import HeapMonitorModel

// A read-only view of the Swift runtime's type metadata on Linux (no Objective-C
// interop). Offsets follow the stable Swift ABI; each was checked against Swift 6.3.1.

/// The kinds of runtime type metadata that sizing distinguishes.
enum MetadataKind: Equatable {
    case `class`
    case `struct`
    case `enum`
    case optional
    case opaque
    case tuple
    /// `Builtin.FixedArray`, the storage of `InlineArray`.
    case fixedArray
    case function
    case existential
    case metatype
    case existentialMetatype
    /// Closure contexts and boxes emitted by the compiler (`HeapLocalVariable`).
    case heapLocalVariable
    /// Boxes allocated at run time for a dynamic type (`HeapGenericLocalVariable`).
    case heapGenericLocalVariable
    case errorObject
    case other(UInt)

    init(rawValue: UInt) {
        switch rawValue {
        case 0x200: self = .struct
        case 0x201: self = .enum
        case 0x202: self = .optional
        case 0x300: self = .opaque
        case 0x301: self = .tuple
        case 0x308: self = .fixedArray
        case 0x302: self = .function
        // 0x307: a constrained existential (`any Collection<Int>`), read
        // through its shape.
        case 0x303, 0x307: self = .existential
        case 0x304: self = .metatype
        case 0x306: self = .existentialMetatype
        case 0x400: self = .heapLocalVariable
        case 0x500: self = .heapGenericLocalVariable
        case 0x501: self = .errorObject
        // Without Objective-C interop a Swift class's kind word is 0; anything past
        // the last metadata kind is an isa pointer, i.e. a class as well.
        case 0, 0x800...: self = .class
        default: self = .other(rawValue)
        }
    }
}

/// A pointer to runtime type metadata. Metadata is immutable and never freed,
/// so sharing it across threads is safe.
struct Metadata: Hashable, @unchecked Sendable {
    let pointer: UnsafeRawPointer

    init(_ pointer: UnsafeRawPointer) { self.pointer = pointer }
    init(_ type: Any.Type) { pointer = unsafeBitCast(type, to: UnsafeRawPointer.self) }

    var type: Any.Type { unsafeBitCast(pointer, to: Any.Type.self) }
    var kind: MetadataKind { MetadataKind(rawValue: pointer.load(as: UInt.self)) }
    /// The type's name; heap-only metadata (contexts, boxes) has none of
    /// its own.
    var name: String {
        switch kind {
        case .heapLocalVariable: return "closure context or box"
        case .heapGenericLocalVariable: return "generic box"
        case .errorObject: return "error box"
        default:
            // A child of a fork may not call the runtime: the unqualified
            // name its descriptor holds stands in.
            guard RuntimeLookups.mayCall() else { return descriptor?.name ?? "?" }
            return stableTypeName(_typeName(type, qualified: true))
        }
    }

    // MARK: Value witnesses

    /// Nil for block function types: on Linux (no Objective-C interop) the
    /// runtime leaves their value-witness word unset — whatever was in that
    /// memory. Such a value is one word that nothing here follows
    /// (`Dispatch.DispatchWorkItem` holds one).
    private var valueWitnesses: UnsafeRawPointer? {
        isBlockFunction ? nil : (pointer - 8).load(as: UnsafeRawPointer.self)
    }
    var size: Int { valueWitnesses?.load(fromByteOffset: 64, as: Int.self) ?? 8 }
    var stride: Int { valueWitnesses?.load(fromByteOffset: 72, as: Int.self) ?? 8 }
    /// Alignment mask 7, trivially copyable, stored inline: one plain word.
    private var witnessFlags: UInt32 { valueWitnesses?.load(fromByteOffset: 80, as: UInt32.self) ?? 7 }
    var alignmentMask: Int { Int(witnessFlags & 0xFF) }
    /// Values of this type hold no references and own nothing: nothing to walk.
    var isPOD: Bool { witnessFlags & 0x10000 == 0 }
    /// An existential stores values of this type out of line, in a box.
    var isStoredInlineInExistential: Bool { witnessFlags & 0x20000 == 0 }

    // MARK: Nominal types

    /// The nominal type descriptor of a struct, enum or class.
    var descriptor: ContextDescriptor? {
        switch kind {
        case .struct, .enum, .optional:
            return pointer.load(fromByteOffset: 8, as: UnsafeRawPointer?.self).map(ContextDescriptor.init)
        case .class:
            return pointer.load(fromByteOffset: 40, as: UnsafeRawPointer?.self).map(ContextDescriptor.init)
        default:
            return nil
        }
    }

    /// `()`, as reflection spells a noncopyable stored property's type.
    var isEmptyTuple: Bool { kind == .tuple && size == 0 }

    /// Generic arguments of a bound generic nominal type, for resolving field types.
    var genericArguments: UnsafeRawPointer? {
        guard let descriptor, descriptor.isGeneric else { return nil }
        switch kind {
        case .struct, .enum, .optional:
            return pointer + 16
        case .class:
            return immediateMembers
        default:
            return nil
        }
    }

    /// Where a class's own members start (its generic arguments, then its
    /// field offsets). Behind a resilient superclass (a `ManagedBuffer`
    /// subclass) only the runtime knows, and it writes the offset into the
    /// descriptor's bounds when it first makes the class's metadata — made
    /// already for any instance met. Nil if it has not.
    private var immediateMembers: UnsafeRawPointer? {
        guard let descriptor else { return nil }
        guard descriptor.hasResilientSuperclass else {
            let positive = Int(descriptor.pointer.load(fromByteOffset: 28, as: UInt32.self))
            let immediate = Int(descriptor.pointer.load(fromByteOffset: 32, as: UInt32.self))
            return pointer + 8 * (positive - immediate)
        }
        guard let bounds = relativePointer(at: descriptor.pointer + 24) else { return nil }
        let offset = bounds.load(as: Int.self)
        return offset > 0 && offset & 7 == 0 ? pointer + offset : nil
    }

    // MARK: Classes

    var superclass: Metadata? {
        pointer.load(fromByteOffset: 8, as: UnsafeRawPointer?.self).map(Metadata.init)
    }

    /// This class and its superclasses, the most specialised first; a
    /// struct or enum alone.
    var ancestry: some Sequence<Metadata> {
        sequence(first: self) { $0.kind == .class ? $0.superclass : nil }
    }
    /// Bytes of a class instance's stored properties, header included.
    var instanceSize: Int { Int(pointer.load(fromByteOffset: 24, as: UInt32.self)) }

    /// Byte offset of stored property `index` of a struct or class; nil
    /// when the class's members cannot be found.
    func fieldOffset(_ index: Int) -> Int? {
        guard let descriptor else { return nil }
        if kind == .class {
            // Relative to the class's own members behind a resilient superclass.
            let vector = Int(descriptor.pointer.load(fromByteOffset: 40, as: UInt32.self))
            let base = descriptor.hasResilientSuperclass ? immediateMembers : pointer
            return base?.load(fromByteOffset: 8 * vector + 8 * index, as: Int.self)
        }
        let vector = Int(descriptor.pointer.load(fromByteOffset: 24, as: UInt32.self))
        return Int(pointer.load(fromByteOffset: 8 * vector + 4 * index, as: UInt32.self))
    }

    // MARK: Tuples

    var tupleElements: [(label: String?, type: Metadata, offset: Int)] {
        let count = pointer.load(fromByteOffset: 8, as: Int.self)
        var labels: [Substring] = []
        if let raw = pointer.load(fromByteOffset: 16, as: UnsafePointer<CChar>?.self) {
            labels = String(cString: raw).split(separator: " ", omittingEmptySubsequences: false)
        }
        return (0..<count).map { index in
            let element = pointer + 24 + 16 * index
            let label = index < labels.count && !labels[index].isEmpty ? String(labels[index]) : nil
            return (
                label, Metadata(element.load(as: UnsafeRawPointer.self)),
                Int(element.load(fromByteOffset: 8, as: UInt32.self))
            )
        }
    }

    // MARK: Functions

    /// A Swift-convention closure is two words: the function and its context.
    var isThickFunction: Bool { functionConvention == 0 }

    /// `@convention(block)`.
    private var isBlockFunction: Bool { kind == .function && functionConvention == 1 }

    /// Function metadata's convention: 0 Swift, 1 block, 2 thin, 3 C.
    private var functionConvention: UInt {
        (pointer.load(fromByteOffset: 8, as: UInt.self) >> 16) & 0xFF
    }

    // MARK: Existentials

    /// How an existential container stores its value: inline or boxed with
    /// its type (opaque), as one reference (class-bound, error), or as a
    /// metatype (nothing to follow); `unknown` for a constrained
    /// existential with an explicit layout.
    enum ExistentialRepresentation { case opaque, classBound, error, metatype, unknown }

    var existentialRepresentation: ExistentialRepresentation {
        if pointer.load(as: UInt.self) == 0x307 {
            // The shape's flags: special kind in the low byte.
            let shape = pointer.load(fromByteOffset: 8, as: UnsafeRawPointer.self)
            switch shape.load(as: UInt32.self) & 0xFF {
            case 0: return .opaque
            case 1: return .classBound
            case 2: return .metatype
            default: return .unknown
            }
        }
        let flags = pointer.load(fromByteOffset: 8, as: UInt32.self)
        if (flags >> 24) & 0x3F == 1 { return .error }
        return flags & 0x8000_0000 == 0 ? .classBound : .opaque
    }

    // MARK: Fixed arrays

    /// A fixed array's element count and type (after the kind word).
    var fixedArray: (count: Int, element: Metadata) {
        (
            pointer.load(fromByteOffset: 8, as: Int.self),
            Metadata(pointer.load(fromByteOffset: 16, as: UnsafeRawPointer.self))
        )
    }

    // MARK: Boxes

    /// For a generic box: the offset of its value and the value's type.
    var genericBoxContents: (offset: Int, type: Metadata) {
        (
            Int(pointer.load(fromByteOffset: 8, as: UInt32.self)),
            Metadata(pointer.load(fromByteOffset: 16, as: UnsafeRawPointer.self))
        )
    }

    /// For a closure context or compiler-emitted box: where captures start and
    /// the capture descriptor that names their types.
    var captureLayout: (firstCapture: Int, descriptor: UnsafeRawPointer?) {
        (
            Int(pointer.load(fromByteOffset: 8, as: UInt32.self)),
            pointer.load(fromByteOffset: 16, as: UnsafeRawPointer?.self)
        )
    }
}

/// Reads a 32-bit relative pointer, as the runtime's descriptors store them.
func relativePointer(at address: UnsafeRawPointer) -> UnsafeRawPointer? {
    let offset = address.load(as: Int32.self)
    return offset == 0 ? nil : address + Int(offset)
}

/// A nominal type's context descriptor (immutable, in the binary's data).
struct ContextDescriptor: Hashable, @unchecked Sendable {
    let pointer: UnsafeRawPointer

    init(_ pointer: UnsafeRawPointer) { self.pointer = pointer }

    private var flags: UInt32 { pointer.load(as: UInt32.self) }
    var isGeneric: Bool { flags & 0x80 != 0 }

    /// Whether the type's generic parameters include a pack (`each T`).
    /// Resolving its field types hands the runtime pack arguments it checks
    /// with a fatal error ("Expected a metadata pack but got metadata") when
    /// they are not laid out exactly as it expects, so they are never
    /// resolved: such a type is sized flat and marked opaque.
    var hasTypePacks: Bool {
        guard isGeneric else { return false }
        // The generic context header follows the descriptor's fixed fields
        // (44 bytes for classes, 28 for structs and enums); its flags are the
        // header's last 16 bits, bit 0 "has type packs".
        let header: Int
        switch flags & 0x1F {
        case 16: header = 44
        case 17, 18: header = 28
        default: return true  // not a type this sizer reads generically
        }
        return pointer.load(fromByteOffset: header + 14, as: UInt16.self) & 1 != 0
    }
    var hasResilientSuperclass: Bool { flags & (1 << 29) != 0 }

    var name: String {
        relativePointer(at: pointer + 8).map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "?"
    }

    var fields: FieldDescriptor? { relativePointer(at: pointer + 16).map(FieldDescriptor.init) }

    /// For enums: how many cases carry a payload (they come first, in tag order).
    var enumPayloadCaseCount: Int {
        Int(pointer.load(fromByteOffset: 20, as: UInt32.self) & 0x00FF_FFFF)
    }
}

/// Reflection metadata for a type's stored properties or enum cases.
struct FieldDescriptor {
    let pointer: UnsafeRawPointer

    init(_ pointer: UnsafeRawPointer) { self.pointer = pointer }

    struct Record {
        let name: String
        let typeName: MangledName?
        let isIndirectCase: Bool
    }

    var count: Int { Int(pointer.load(fromByteOffset: 12, as: UInt32.self)) }

    subscript(index: Int) -> Record {
        let recordSize = Int(pointer.load(fromByteOffset: 10, as: UInt16.self))
        let record = pointer + 16 + index * recordSize
        let flags = record.load(as: UInt32.self)
        let name = relativePointer(at: record + 8).map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
        return Record(
            name: name, typeName: relativePointer(at: record + 4).map(MangledName.init),
            isIndirectCase: flags & 1 != 0)
    }
}

/// How a stored property holds its referent.
enum ReferenceOwnership { case strong, weak, unowned, unownedUnsafe }

/// A mangled type name in reflection metadata, possibly with symbolic references.
struct MangledName {
    let pointer: UnsafePointer<UInt8>
    let length: Int
    /// Where the last symbolic reference ends: only bytes past it are plain text.
    private let textStart: Int
    /// Whether the name has a pack expansion (`Qp`) or pack element (`Qe`):
    /// resolved without its generic arguments, such a name makes the runtime
    /// abort ("Pack expansion count type should be a pack") instead of fail.
    private let mentionsPack: Bool
    /// Whether the name may mention a generic parameter (`x`, `q…_`) or one
    /// of its associated types (`Qz`, `Qy…`). Conservative: any of those
    /// letters outside a symbolic reference counts, identifiers included.
    let mayMentionGenericParameter: Bool

    init(_ raw: UnsafeRawPointer) {
        pointer = raw.assumingMemoryBound(to: UInt8.self)
        var index = 0, text = 0, previous: UInt8 = 0, pack = false
        var generic = false
        while true {
            let byte = pointer[index]
            if byte == 0 { break }
            switch byte {
            case 0x01...0x17: index += 5; text = index; previous = 0  // 32-bit relative reference
            case 0x18...0x1F: index += 9; text = index; previous = 0  // absolute reference
            default:
                if previous == UInt8(ascii: "Q"), byte == UInt8(ascii: "p") || byte == UInt8(ascii: "e") { pack = true }
                switch byte {
                case UInt8(ascii: "x"), UInt8(ascii: "q"), UInt8(ascii: "Q"): generic = true
                default: break
                }
                previous = byte
                index += 1
            }
        }
        length = index
        textStart = text
        mentionsPack = pack
        mayMentionGenericParameter = generic
    }

    /// Whether the name is a generic parameter alone (`x`, `q_`, `q0_`):
    /// the type it resolves to is the generic argument itself.
    var isGenericParameter: Bool {
        guard textStart == 0, length > 0 else { return false }
        if length == 1 { return pointer[0] == UInt8(ascii: "x") }
        return pointer[0] == UInt8(ascii: "q") && pointer[length - 1] == UInt8(ascii: "_")
            && (1..<(length - 1)).allSatisfy { pointer[$0] >= UInt8(ascii: "0") && pointer[$0] <= UInt8(ascii: "9") }
    }

    var ownership: ReferenceOwnership {
        guard length - textStart >= 2, pointer[length - 2] == UInt8(ascii: "X") else { return .strong }
        switch pointer[length - 1] {
        case UInt8(ascii: "w"): return .weak
        case UInt8(ascii: "o"): return .unowned
        case UInt8(ascii: "u"): return .unownedUnsafe
        default: return .strong
        }
    }

    /// The plain-text tail of the name (after any symbolic reference).
    var text: String {
        String(decoding: UnsafeBufferPointer(start: pointer + textStart, count: length - textStart), as: UTF8.self)
    }

    /// The metadata this name denotes in `context`, or nil when the runtime cannot
    /// resolve it (lowered function types, boxes, unbound generic parameters)
    /// or may not be asked (`RuntimeLookups`).
    func resolve(in context: ContextDescriptor? = nil, genericArguments: UnsafeRawPointer? = nil) -> Metadata? {
        if mentionsPack && genericArguments == nil { return nil }
        if let context, context.hasTypePacks { return nil }
        guard RuntimeLookups.mayCall() else { return nil }
        return hm_type_by_mangled_name(
            UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self), length,
            context.map { $0.pointer },
            genericArguments?.assumingMemoryBound(to: UnsafeRawPointer?.self)
        )
        .map(Metadata.init)
    }
}
