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
    /// A value whose type reflection hides: noncopyable stored properties
    /// are reflected as `()` (a `Mutex`, say). Its aligned words are read
    /// as possible references, only where memory is checked.
    case untyped(offset: Int, words: Int)
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
        case .untyped(let offset, let words): return .untyped(offset: offset + delta, words: words)
        }
    }
}
