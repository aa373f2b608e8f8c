import CHeapMonitor

/// A Swift heap object seen through its header: metadata word, then the inline
/// reference-count word (64-bit layout of the Swift runtime's `RefCount.h`).
struct HeapObject: Hashable {
    let address: UnsafeRawPointer

    init(_ address: UnsafeRawPointer) { self.address = address }

    var metadata: Metadata { Metadata(address.load(as: UnsafeRawPointer.self)) }

    private var refCountBits: UInt64 { address.load(fromByteOffset: 8, as: UInt64.self) }

    /// Statically allocated (empty collection singletons, literals, global
    /// constants in read-only data): never freed, not a heap block.
    var isImmortal: Bool {
        let bits = refCountBits
        return bits & (1 << 63) != 0 && bits & 0xFFFF_FFFF == 0xFFFF_FFFF
    }

    /// Exactly one strong reference holds this object (inline count, no side
    /// table). Sizing follows strong references only, so such an object can be
    /// reached through its one holder only, and needs no visited-set entry.
    var isUniquelyReferenced: Bool {
        // Strong extra count (bits 33-62) zero, no slow-path flag (bit 63).
        refCountBits >> 33 == 0
    }

    /// `isUniquelyReferenced`, asking the side table of a weakly referenced
    /// object (its strong count word, at offset 16, has the same layout):
    /// only where the side table may be read without a check.
    var isUniquelyReferencedReadingSideTable: Bool {
        guard let sideTable else { return isUniquelyReferenced }
        return sideTable.load(fromByteOffset: 16, as: UInt64.self) >> 33 == 0
    }

    /// The runtime is running the object's deinit (or destroying it): its
    /// fields may be released already. Bit 32 of the strong count word, in
    /// the side table's copy once the object has one (after the object
    /// pointer, 16-byte aligned with the weak count: at offset 16).
    var isDeiniting: Bool {
        let bits = sideTable.map { $0.load(fromByteOffset: 16, as: UInt64.self) } ?? refCountBits
        return bits & (1 << 32) != 0
    }

    /// The side table the runtime allocates once an object is weakly referenced.
    var sideTable: UnsafeRawPointer? {
        let bits = refCountBits
        guard bits >> 62 == 0b11 else { return nil }
        return UnsafeRawPointer(bitPattern: UInt((bits & ((1 << 62) - 1)) << 3))
    }

    /// Bytes the allocator holds for this object: its block plus any side table.
    /// Static objects hold none.
    var allocatedBytes: Int {
        if isImmortal { return 0 }
        var bytes = hm_block_size(address)
        if let sideTable { bytes += hm_block_size(sideTable) }
        return bytes
    }

    /// Whether `address` can be a live Swift object worth reading: aligned and
    /// with a plausible metadata pointer.
    static func isPlausible(_ address: UInt) -> Bool {
        address >= 4096 && address & 7 == 0 && address >> 48 == 0
    }
}
