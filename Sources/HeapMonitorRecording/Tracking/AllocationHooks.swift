import CHeapMonitor

/// Why the allocation hooks could not be installed.
public enum HookError: Error, Equatable, CustomStringConvertible {
    /// The Swift runtime is linked into the executable (`-static-stdlib`):
    /// its allocation entry points are called directly, with no GOT entry.
    case staticStandardLibrary
    /// No loaded image calls the runtime's allocation entry points.
    case nothingToPatch
    /// More classes are registered than the hooks' table holds (256).
    case tooManyClasses
    /// More class-name patterns are registered than the hooks' table holds
    /// (32), or a pattern is longer than 255 bytes.
    case tooManyPatterns
    /// No class has this name (`Module.Type`, as `String(reflecting:)` writes it).
    case unknownClass(String)
    /// The class belongs to the standard library, which frees its instances
    /// inside the runtime where the hooks cannot see.
    case standardLibraryClass(String)

    public var description: String {
        switch self {
        case .staticStandardLibrary:
            return "HeapMonitor cannot observe allocations: the Swift runtime is linked statically "
                + "(-static-stdlib), so there are no GOT entries to hook. Link dynamically, or link with "
                + "-Xlinker --wrap=swift_allocObject -Xlinker --wrap=swift_deallocClassInstance "
                + "-Xlinker --wrap=swift_deallocPartialClassInstance -Xlinker --wrap=swift_deallocObject "
                + "-Xlinker --wrap=swift_initStackObject (see docs/Tracking.md, \"Static executables\")."
        case .nothingToPatch:
            return "HeapMonitor cannot observe allocations: no loaded image calls swift_allocObject through its GOT."
        case .tooManyClasses:
            return "HeapMonitor cannot track more than 256 classes at once."
        case .tooManyPatterns:
            return "HeapMonitor cannot track more than 32 class-name patterns at once, each under 256 bytes."
        case .unknownClass(let name):
            return "HeapMonitor cannot track \(name): no loaded class has that name (write it as Module.Type)."
        case .standardLibraryClass(let name):
            return "HeapMonitor cannot track \(name): the standard library allocates and frees it inside the runtime, "
                + "where the allocation hooks do not see. Track the object that holds it."
        }
    }
}

/// The process-wide allocation hooks (GOT patches of every loaded image).
enum AllocationHooks {
    /// Patches every loaded image not patched yet; call again after `dlopen`.
    static func install() throws(HookError) {
        switch hm_hooks_install() {
        case Int32(HM_INSTALLED.rawValue): return
        case Int32(HM_STATIC_STDLIB.rawValue): throw HookError.staticStandardLibrary
        default: throw HookError.nothingToPatch
        }
    }

    /// Restores the original GOT entries.
    static func uninstall() { hm_hooks_uninstall() }

    /// GOT entries currently patched.
    static var patchedEntries: Int { hm_hooks_patched_entries() }

    /// Throws when instances of the class could die unseen.
    static func checkObservable(_ metadata: UnsafeRawPointer) throws(HookError) {
        if hm_is_runtime_class(metadata) != 0 { throw HookError.standardLibraryClass(Metadata(metadata).name) }
    }

    /// Sets the hooks' flags for a class (metadata) or for every specialisation
    /// of a generic class (its type descriptor).
    static func register(_ key: ClassKey, flags: UInt32) throws(HookError) {
        guard hm_register_class(UnsafeRawPointer(bitPattern: key.pointer), key.byDescriptor ? 1 : 0, flags) == 0 else {
            throw HookError.tooManyClasses
        }
    }
}

/// A class as registered: one metadata, or a generic class's descriptor.
struct ClassKey: Hashable {
    var pointer: UInt
    var byDescriptor: Bool

    init(_ type: AnyClass, allSpecializations: Bool) {
        let metadata = Metadata(type)
        if allSpecializations, let descriptor = metadata.descriptor, descriptor.isGeneric {
            pointer = UInt(bitPattern: descriptor.pointer)
            byDescriptor = true
        } else {
            pointer = UInt(bitPattern: metadata.pointer)
            byDescriptor = false
        }
    }

    init(metadata: UnsafeRawPointer) {
        pointer = UInt(bitPattern: metadata)
        byDescriptor = false
    }

    init(pointer: UInt, byDescriptor: Bool) {
        self.pointer = pointer
        self.byDescriptor = byDescriptor
    }
}
