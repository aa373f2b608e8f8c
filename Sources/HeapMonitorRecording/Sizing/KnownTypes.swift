import CHeapMonitor

/// Types the sizer treats specially, found once from live values so that no
/// private runtime symbol is named.
enum KnownTypes {
    static let string = Metadata(String.self)

    /// Runs every initialiser below, which call the runtime: before a fork,
    /// since a child may not (`RuntimeLookups`).
    static func load() {
        _ = (string, arrayStorage, dictionaryStorage, setStorage, managedBuffer, collections)
        _ = (nativeReferences, bridgeObject, thickFunction, thinFunction)
    }

    /// Descriptor shared by every `_ContiguousArrayStorage<Element>`.
    static let arrayStorage: ContextDescriptor? = storageDescriptor(of: [Int(hm_allocator_in_use())])
    /// Descriptor shared by every `_DictionaryStorage<Key, Value>`.
    static let dictionaryStorage: ContextDescriptor? = storageDescriptor(of: [Int(hm_allocator_in_use()): 0])
    /// Descriptor shared by every `_SetStorage<Element>`.
    static let setStorage: ContextDescriptor? = storageDescriptor(of: Set([Int(hm_allocator_in_use())]))

    /// Descriptor shared by every `ManagedBuffer<Header, Element>`.
    static let managedBuffer: ContextDescriptor? = Metadata(ManagedBuffer<Int, Int>.self).descriptor

    /// Descriptors of the standard collections whose single reference is their
    /// storage object.
    private static let collections: Set<ContextDescriptor> = Set(
        [
            Metadata([Int].self), Metadata(ContiguousArray<Int>.self), Metadata(ArraySlice<Int>.self),
            Metadata([Int: Int].self), Metadata(Set<Int>.self),
        ].compactMap { $0.descriptor })

    static func isCollection(_ type: Metadata) -> Bool {
        type.descriptor.map(collections.contains) ?? false
    }

    /// `Builtin.NativeObject` and `Builtin.UnknownObject`: plain strong references.
    static let nativeReferences: Set<Metadata> = Set(["Bo", "BO"].compactMap(builtin))
    /// `Builtin.BridgeObject`: a strong reference with tag bits.
    static let bridgeObject: Metadata? = builtin("Bb")

    /// A thick closure type, standing in for lowered function captures.
    private static let thickFunction = Metadata((() -> Void).self)
    /// A thin function pointer, which holds no context.
    private static let thinFunction = Metadata((@convention(c) () -> Void).self)

    /// Closure contexts describe some captures with lowered (SIL) types the
    /// runtime cannot resolve: boxes for captured `var`s and function values.
    /// Returns a stand-in with the same layout, or nil when unknown.
    static func loweredCaptureType(_ mangled: String) -> Metadata? {
        if mangled.hasSuffix("Xx") || mangled.hasSuffix("Xb") || mangled.hasSuffix("XB") {
            return nativeReferences.first { $0.size == 8 }
        }
        guard mangled.hasSuffix("_"), let impl = mangled.lastIndex(of: "I") else { return nil }
        let convention = mangled[mangled.index(after: impl)...].drop { $0 == "e" || $0 == "h" }
        return convention.first == "t" ? thinFunction : thickFunction
    }

    private static func builtin(_ name: String) -> Metadata? {
        name.withCString { hm_type_by_mangled_name($0, name.utf8.count, nil, nil) }.map(Metadata.init)
    }

    /// The class descriptor of the storage object behind a native collection.
    private static func storageDescriptor<C>(of collection: C) -> ContextDescriptor? {
        withExtendedLifetime(collection) {
            withUnsafeBytes(of: collection) { bytes in
                HeapObject(bytes.load(as: UnsafeRawPointer.self)).metadata.descriptor
            }
        }
    }
}
