import CHeapMonitor

/// A set of addresses with open addressing and linear probing: the sizer
/// inserts every heap block it meets, so this must be cheap and compact.
struct AddressSet: ~Copyable {
    private var slots: UnsafeMutablePointer<UInt>
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        mask = size - 1
    }

    deinit { slots.deallocate() }

    @inline(__always)
    private static func hash(_ address: UInt) -> Int {
        hm_address_hash(address)
    }

    /// Inserts `address` (non-zero); returns false when it was already present.
    @inline(__always)
    mutating func insert(_ address: UInt) -> Bool {
        var index = Self.hash(address) & mask
        while true {
            let existing = slots[index]
            if existing == address { return false }
            if existing == 0 { break }
            index = (index + 1) & mask
        }
        slots[index] = address
        count += 1
        if count * 2 > mask { grow() }
        return true
    }

    func contains(_ address: UInt) -> Bool {
        var index = Self.hash(address) & mask
        while true {
            let existing = slots[index]
            if existing == address { return true }
            if existing == 0 { return false }
            index = (index + 1) & mask
        }
    }

    mutating func removeAll() {
        slots.update(repeating: 0, count: mask + 1)
        count = 0
    }

    private mutating func grow() {
        let oldSlots = slots, oldSize = mask + 1
        let size = oldSize * 2
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        mask = size - 1
        for index in 0..<oldSize where oldSlots[index] != 0 {
            var probe = Self.hash(oldSlots[index]) & mask
            while slots[probe] != 0 { probe = (probe + 1) & mask }
            slots[probe] = oldSlots[index]
        }
        oldSlots.deallocate()
    }
}
