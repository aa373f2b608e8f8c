import HeapMonitorModel

/// Sizes Swift values as the allocator holds them, remembering what it has
/// counted: data shared between values is counted once, for the first value
/// sized that reaches it.
///
/// Sizes are real: every heap block (class instance, array, dictionary, set and
/// string storage, boxes, closure contexts, weak-reference side tables) counts
/// as the allocator's block, header included, so sums compare with
/// `HeapMonitor.allocatorInUse()`. Inline values count inside their container.
/// Only strong references are followed: `weak`, `unowned` and unsafe pointers
/// are counted where they are stored, never followed.
///
/// A value's size includes its own inline bytes; a class instance's size is its
/// heap block, not the reference. Existentials passed as the root (`Any`, a
/// protocol type) are opened.
///
/// A `Sizer` reads memory without retaining it: the values it sizes must not be
/// mutated by other threads meanwhile.
public final class Sizer {
    private var engine: SizingEngine

    /// Creates a sizer that has counted nothing yet.
    public convenience init() { self.init(remembersEveryObject: true) }

    /// A sizer for one call need not remember objects that only one
    /// reference reaches: no later call can reach them through another.
    init(remembersEveryObject: Bool) { engine = SizingEngine(remembersEveryObject: remembersEveryObject) }

    /// Bytes counted by this sizer so far, over all calls.
    public var countedBytes: Int { engine.total }

    /// Types met so far that could not be fully introspected: their values were
    /// counted with their own bytes only.
    public var opaqueTypeNames: [String] { engine.opaqueTypes.map(\.name).sorted() }

    /// The bytes `value` keeps alive that this sizer has not counted before.
    public func deepSize<T>(of value: T) -> Int {
        withUnsafePointer(to: value) { pointer in
            switch engine.openRoot(UnsafeRawPointer(pointer), Metadata(T.self)) {
            case .object(let address):
                return engine.heapSize(ofObject: address)
            case .value(let address, let type):
                return type.size + engine.heapSize(ofValueAt: address, layout: engine.valueLayout(type, trusted: true))
            }
        }
    }

    /// `value`'s size with its referents sized separately, `resolutionLevel`
    /// levels deep (0: the value alone; 1: also its direct referents — stored
    /// properties, elements, captures; 2: their referents; …). Counts like
    /// `deepSize(of:)`: its `size` is what that would return.
    public func sizedTree<T>(of value: T, name: String = "root", resolutionLevel: Int = 1) -> SizedNode {
        withUnsafePointer(to: value) { pointer in
            let level = max(0, resolutionLevel)
            switch engine.openRoot(UnsafeRawPointer(pointer), Metadata(T.self)) {
            case .object(let address):
                engine.rootObject = address
                return engine.objectNode(address, name: name, level: level)
                    ?? SizedNode(name: name, typeName: Self.dynamicTypeName(value), flatSize: 0)
            case .value(let address, let type):
                var node =
                    engine.valueNode(address, type, name: name, level: level)
                    ?? SizedNode(name: name, typeName: type.name, flatSize: 0)
                node.typeName = type.name
                node.flatSize += type.size
                node.size += type.size
                return node
            }
        }
    }

    /// Treats `object` as counted: it, and whatever it alone reaches, will not
    /// be part of any later size. The tracker excludes the other tracked objects
    /// this way, so that no tracked object's size includes another's.
    public func exclude(_ object: AnyObject) {
        engine.exclude(UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque()))
    }

    /// Forgets what was counted, so the next call counts shared data again.
    public func reset() {
        engine.reset()
    }

    private static func dynamicTypeName<T>(_ value: T) -> String {
        Metadata(type(of: value as Any)).name
    }
}

/// The bytes `value` keeps alive: its own bytes and everything it references
/// strongly, each heap block counted once, as the allocator holds it.
public func deepSize<T>(of value: T) -> Int {
    Sizer(remembersEveryObject: false).deepSize(of: value)
}

/// The bytes of `value` itself: a class instance's heap block (with its side
/// table, if weakly referenced), or a value's inline bytes.
public func flatSize<T>(of value: T) -> Int {
    Sizer().sizedTree(of: value, resolutionLevel: 1).flatSize
}

/// The sizes of several values sized together: data they share is counted
/// once, for the first value that reaches it.
public func deepSizes(of values: [Any]) -> [Int] {
    let sizer = Sizer()
    return values.map { sizer.deepSize(of: $0) }
}

/// `value`'s size with its referents sized separately, `resolutionLevel` deep.
public func sizedTree<T>(of value: T, name: String = "root", resolutionLevel: Int = 1) -> SizedNode {
    Sizer().sizedTree(of: value, name: name, resolutionLevel: resolutionLevel)
}

/// Bytes the allocator has handed out and not taken back (glibc's in-use arena
/// bytes plus mmapped blocks): the ground truth sizes compare with.
public func allocatorInUse() -> Int {
    Int(hm_allocator_in_use())
}

import CHeapMonitor
