import CHeapMonitor

/// Proves that a word read from a heap object's first slot is type metadata
/// the sizer may read, before anything reads through it.
///
/// A dangling reference — an object freed under a reader, or caught by a fork
/// in the middle of its deinit — leads to a block whose first word is the
/// allocator's free-list pointer, or to another type's object. Reading that as
/// metadata faults ("load from misaligned raw pointer") or passes garbage to
/// the runtime, which may abort. Each check reads only memory the map says is
/// readable, and follows only pointers that land where such data lives (type
/// descriptors in an image). Metadata that passes is remembered process-wide:
/// metadata is never freed.
struct MetadataCheck {
    /// Read on first need, or the engine's.
    private var memory: MemoryMap?
    /// Maps read again because something was not in the last one.
    private var refreshes = 0

    /// With `memory`, and `refreshing` false, the check reads no other
    /// map: a forked child's memory does not change, and a walk of its
    /// heap must not allocate while it reads.
    init(memory: MemoryMap? = nil, refreshing: Bool = true) {
        self.memory = memory
        if !refreshing { refreshes = Self.maximumRefreshes }
    }

    private static let maximumRefreshes = 4

    private mutating func map() -> MemoryMap {
        if let memory { return memory }
        let map = MemoryMap()
        memory = map
        return map
    }

    /// Whether the range is readable. The runtime maps memory for metadata it
    /// creates (while layouts are built, for instance), so a range the map
    /// does not know is looked up again in a fresh map, a few times per check.
    private mutating func isReadable(_ address: UInt, length: Int) -> Bool {
        if map().isReadable(address, length: length) { return true }
        guard refreshes < Self.maximumRefreshes else { return false }
        refreshes += 1
        memory = MemoryMap()
        return map().isReadable(address, length: length)
    }

    /// Whether `metadata` is that of a heap object: a class, a closure context
    /// or box, a generic box or an error box.
    mutating func isObjectMetadata(_ metadata: UnsafeRawPointer) -> Bool {
        if hm_metadata_is_known(metadata, Self.objectRole) != 0 { return true }
        guard isHeapMetadata(metadata, depth: 0) else { return false }
        hm_metadata_remember(metadata, Self.objectRole)
        return true
    }

    /// Whether `metadata` is the metadata of a value type, a class or any
    /// other type a value can have (an existential's dynamic type).
    mutating func isTypeMetadata(_ metadata: UnsafeRawPointer) -> Bool {
        if hm_metadata_is_known(metadata, Self.typeRole) != 0 { return true }
        guard isValueMetadata(metadata, depth: 0) else { return false }
        hm_metadata_remember(metadata, Self.typeRole)
        return true
    }

    private static let objectRole: Int32 = 1
    private static let typeRole: Int32 = 2

    private static func isAligned(_ address: UInt, _ alignment: UInt = 8) -> Bool {
        address >= 4096 && address >> 47 == 0 && address & (alignment - 1) == 0
    }

    /// Heap metadata is preceded by its destroy function and value witnesses.
    private mutating func isHeapMetadata(_ metadata: UnsafeRawPointer, depth: Int) -> Bool {
        let address = UInt(bitPattern: metadata)
        guard depth < 64, Self.isAligned(address), isReadable(address - 16, length: 16 + 8) else { return false }
        switch metadata.load(as: UInt.self) {
        case 0:
            return isClassMetadata(metadata, depth: depth)
        case 0x400:
            // A closure context or box: static, in an image, with a capture
            // descriptor there too (or none).
            guard map().isInImage(address, length: 24) else { return false }
            let captures = metadata.load(fromByteOffset: 16, as: UInt.self)
            return captures == 0 || (Self.isAligned(captures, 4) && map().isInImage(captures, length: 12))
        case 0x500:
            guard isReadable(address, length: 24) else { return false }
            let boxed = metadata.load(fromByteOffset: 16, as: UInt.self)
            return Self.isAligned(boxed) && isValueMetadata(UnsafeRawPointer(bitPattern: boxed)!, depth: depth + 1)
        case 0x501:
            return isReadable(address, length: 16)
        default:
            return false
        }
    }

    /// Kind word 0 (no Objective-C isa on Linux), a class descriptor in an
    /// image, a sane instance size, the whole metadata readable with the
    /// class's own members inside it, and a superclass that passes too.
    private mutating func isClassMetadata(_ metadata: UnsafeRawPointer, depth: Int) -> Bool {
        let address = UInt(bitPattern: metadata)
        guard isReadable(address, length: 56) else { return false }
        let descriptor = metadata.load(fromByteOffset: 40, as: UInt.self)
        guard Self.isAligned(descriptor, 4), map().isInImage(descriptor, length: 44) else { return false }
        // Kind 16 (class), version 0, a name and (unless reflection
        // metadata was left out) field records in an image: layouts read
        // both, and hand the records' type names to the runtime.
        let flags = UnsafeRawPointer(bitPattern: descriptor)!.load(as: UInt32.self)
        guard flags & 0x1F == 16, flags & 0xFF00 == 0,
            isInImage(relativeTo: descriptor + 8, required: true),
            isInImage(relativeTo: descriptor + 16, required: false)
        else { return false }
        let instanceSize = metadata.load(fromByteOffset: 24, as: UInt32.self)
        guard instanceSize >= 16, instanceSize < 1 << 28 else { return false }
        // The allocation around the address point: destroy function and
        // value witnesses before it, at least the class header after it.
        let size = Int(metadata.load(fromByteOffset: 32, as: UInt32.self))
        let addressPoint = Int(metadata.load(fromByteOffset: 36, as: UInt32.self))
        guard addressPoint >= 16, addressPoint & 7 == 0, size >= addressPoint + 56, size < 1 << 24,
            address >= UInt(addressPoint), isReadable(address - UInt(addressPoint), length: size),
            membersAreInside(UnsafeRawPointer(bitPattern: descriptor)!, flags, bytes: size - addressPoint)
        else { return false }
        let superclass = metadata.load(fromByteOffset: 8, as: UInt.self)
        return superclass == 0
            || (Self.isAligned(superclass)
                && isHeapMetadata(UnsafeRawPointer(bitPattern: superclass)!, depth: depth + 1))
    }

    /// Whether the relative pointer at `address` leads into an image; a
    /// null one passes unless `required`.
    private mutating func isInImage(relativeTo address: UInt, required: Bool) -> Bool {
        guard let target = relativePointer(at: UnsafeRawPointer(bitPattern: address)!) else { return !required }
        return map().isInImage(UInt(bitPattern: target))
    }

    /// Whether what the class descriptor says of the metadata's own members
    /// (`Metadata.immediateMembers`, `fieldOffset`) lies within its `bytes`
    /// from the address point: a word that only looks like metadata may
    /// name a descriptor whose numbers lead anywhere.
    private mutating func membersAreInside(_ descriptor: UnsafeRawPointer, _ flags: UInt32, bytes: Int) -> Bool {
        let fields = Int(descriptor.load(fromByteOffset: 36, as: UInt32.self))
        let vector = Int(descriptor.load(fromByteOffset: 40, as: UInt32.self))
        guard flags & (1 << 29) != 0 else {
            let positive = Int(descriptor.load(fromByteOffset: 28, as: UInt32.self))
            let immediate = Int(descriptor.load(fromByteOffset: 32, as: UInt32.self))
            return immediate <= positive && 8 * positive <= bytes && 8 * (vector + fields) <= bytes
        }
        // Behind a resilient superclass: the bounds the runtime writes when
        // it makes the class's first metadata (0 until then).
        guard let bounds = relativePointer(at: descriptor + 24),
            Self.isAligned(UInt(bitPattern: bounds)), isReadable(UInt(bitPattern: bounds), length: 8)
        else { return false }
        let members = bounds.load(as: Int.self)
        return members == 0 || (members > 0 && members <= bytes - 8 * (vector + fields))
    }

    /// Any type's metadata: its value witnesses readable, and for nominal
    /// types a descriptor of the right kind in an image.
    private mutating func isValueMetadata(_ metadata: UnsafeRawPointer, depth: Int) -> Bool {
        let address = UInt(bitPattern: metadata)
        guard depth < 64, Self.isAligned(address), isReadable(address - 8, length: 8 + 24) else { return false }
        let witnesses = metadata.load(fromByteOffset: -8, as: UInt.self)
        switch metadata.load(as: UInt.self) {
        case 0:
            return isHeapMetadata(metadata, depth: depth)
        case 0x200, 0x201, 0x202:
            let descriptor = metadata.load(fromByteOffset: 8, as: UInt.self)
            guard Self.isAligned(witnesses), isReadable(witnesses, length: 88),
                Self.isAligned(descriptor, 4), map().isInImage(descriptor, length: 28)
            else { return false }
            let kind = UnsafeRawPointer(bitPattern: descriptor)!.load(as: UInt32.self) & 0x1F
            return kind == 17 || kind == 18
        case 0x300...0x308:
            // Builtin, tuple, function, existential, metatype and fixed-array
            // metadata; block functions have no witnesses (see `Metadata.size`).
            return metadata.load(as: UInt.self) == 0x302
                || (Self.isAligned(witnesses) && isReadable(witnesses, length: 88))
        default:
            return false
        }
    }
}
