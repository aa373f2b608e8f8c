import CHeapMonitor
import HeapMonitorModel

/// Every object the tracker knows, in registration order, with an index from
/// the address of each live one to its record.
///
/// Stored column by column (32 bytes a record) with a hash index of 32-bit
/// record numbers (keys are read from the address column), so that a tracked
/// object costs the monitor about 40 bytes. Records past `stableCount` have
/// not been seen by any reader yet: one that dies there is dropped and only
/// counted (a class tracked in a tight loop must not grow the monitor without
/// bound); reading the records makes them stable first.
struct TrackedRecords {
    private(set) var addresses: [UInt] = []
    private(set) var births: [UInt64] = []
    /// 0 while alive.
    private(set) var deaths: [UInt64] = []
    private(set) var classes: [UInt32] = []
    /// 0: no trace; else an index into the tracker's traces plus one.
    private(set) var traces: [UInt32] = []
    /// Records below this index keep their number for good.
    private(set) var stableCount = 0
    private var index = AddressIndex()
    private var droppedInYoung = 0

    var count: Int { addresses.count }
    var liveCount: Int { index.count }

    /// The live records in registration order. When most records are dead
    /// (a server's long history) they come from the index, so the dead cost
    /// nothing; otherwise one pass over the deaths is quicker than sorting.
    var liveRecords: [Int] {
        guard liveCount * 8 < count else {
            return deaths.withUnsafeBufferPointer { deaths in
                var live: [Int] = []
                live.reserveCapacity(liveCount)
                for record in 0..<deaths.count where deaths[record] == 0 { live.append(record) }
                return live
            }
        }
        return index.records.sorted()
    }

    /// Appends a record for a live object; an earlier occupant of its address
    /// (whose death event is still on its way) is dead by now: what became of
    /// its record is returned (a young one is dropped and counted, as a
    /// death event would have it).
    @discardableResult
    mutating func append(address: UInt, birth: UInt64, classIndex: UInt32, trace: UInt32) -> Death? {
        let ended = index.find(address, in: addresses).map { end($0, at: max(births[$0], birth)) }
        let record = addresses.count
        addresses.append(address)
        births.append(birth)
        deaths.append(0)
        classes.append(classIndex)
        traces.append(trace)
        index.insert(UInt32(record), address: address, in: addresses)
        return ended
    }

    /// What became of a death event.
    enum Death {
        /// No live record at the address: an object born before tracking or
        /// placed on the stack.
        case unknown
        /// The record's death time is set.
        case recorded(record: Int)
        /// A young record died: it is dropped, its class counted.
        case dropped(classIndex: UInt32, lifetime: UInt64)
    }

    /// Records the death of the object at `address` at `time`.
    mutating func recordDeath(address: UInt, time: UInt64) -> Death {
        guard let record = index.find(address, in: addresses), births[record] <= time else { return .unknown }
        return end(record, at: time)
    }

    /// Ends the live `record` at `time`: a young one is dropped and counted.
    private mutating func end(_ record: Int, at time: UInt64) -> Death {
        index.remove(addresses[record], in: addresses)
        deaths[record] = time
        guard record >= stableCount else { return .recorded(record: record) }
        let death = Death.dropped(classIndex: classes[record], lifetime: time - births[record])
        droppedInYoung += 1
        if droppedInYoung > 4096 && droppedInYoung * 2 > count - stableCount { compactYoung() }
        return death
    }

    /// The live record at `address`.
    func liveRecord(at address: UInt) -> Int? { index.find(address, in: addresses) }

    /// Makes every record stable, dropping young records already dead.
    mutating func stabilise() {
        if droppedInYoung > 0 { compactYoung() }
        stableCount = count
    }

    /// Forgets every record.
    mutating func removeAll() { self = TrackedRecords() }

    /// Approximate bytes held.
    var heldBytes: Int {
        addresses.capacity * 8 + births.capacity * 8 + deaths.capacity * 8 + classes.capacity * 4
            + traces.capacity * 4 + index.heldBytes
    }

    /// Drops the dead young records; only young entries of the index are
    /// renumbered, so a long history of stable records costs nothing here.
    private mutating func compactYoung() {
        for record in stableCount..<count where deaths[record] == 0 { index.remove(addresses[record], in: addresses) }
        var kept = stableCount
        for record in stableCount..<count where deaths[record] == 0 {
            if record != kept {
                addresses[kept] = addresses[record]
                births[kept] = births[record]
                deaths[kept] = 0
                classes[kept] = classes[record]
                traces[kept] = traces[record]
            }
            kept += 1
        }
        addresses.removeSubrange(kept...)
        births.removeSubrange(kept...)
        deaths.removeSubrange(kept...)
        classes.removeSubrange(kept...)
        traces.removeSubrange(kept...)
        droppedInYoung = 0
        for record in stableCount..<count { index.insert(UInt32(record), address: addresses[record], in: addresses) }
    }
}

/// Open-addressing hash index from an address to a record number; keys are the
/// records' addresses, so a slot is four bytes.
struct AddressIndex {
    private static let empty = UInt32.max, removed = UInt32.max - 1
    private var slots: [UInt32] = Array(repeating: AddressIndex.empty, count: 1024)
    private(set) var count = 0
    private var used = 0  // live plus removed slots

    var heldBytes: Int { slots.capacity * 4 }

    @inline(__always)
    private func start(_ address: UInt) -> Int {
        hm_address_hash(address) & (slots.count - 1)
    }

    func find(_ address: UInt, in addresses: [UInt]) -> Int? {
        var slot = start(address)
        while true {
            let value = slots[slot]
            if value == Self.empty { return nil }
            if value != Self.removed, addresses[Int(value)] == address { return Int(value) }
            slot = (slot + 1) & (slots.count - 1)
        }
    }

    mutating func insert(_ record: UInt32, address: UInt, in addresses: [UInt]) {
        if (used + 1) * 2 > slots.count { grow(addresses) }
        var slot = start(address)
        while slots[slot] != Self.empty && slots[slot] != Self.removed { slot = (slot + 1) & (slots.count - 1) }
        if slots[slot] == Self.empty { used += 1 }
        slots[slot] = record
        count += 1
    }

    @discardableResult
    mutating func remove(_ address: UInt, in addresses: [UInt]) -> Int? {
        var slot = start(address)
        while true {
            let value = slots[slot]
            if value == Self.empty { return nil }
            if value != Self.removed, addresses[Int(value)] == address {
                slots[slot] = Self.removed
                count -= 1
                return Int(value)
            }
            slot = (slot + 1) & (slots.count - 1)
        }
    }

    /// The record numbers in the index, in no order.
    var records: [Int] {
        var found: [Int] = []
        found.reserveCapacity(count)
        slots.withUnsafeBufferPointer { slots in
            for value in slots where value < Self.removed { found.append(Int(value)) }
        }
        return found
    }

    /// Rebuilds the index for `liveRecords`, at most a quarter full.
    mutating func rebuild(liveRecords: [Int], addresses: [UInt]) {
        var capacity = 1024
        while liveRecords.count * 4 >= capacity { capacity *= 2 }
        slots = Array(repeating: Self.empty, count: capacity)
        count = 0
        used = 0
        for record in liveRecords { insert(UInt32(record), address: addresses[record], in: addresses) }
    }

    private mutating func grow(_ addresses: [UInt]) {
        rebuild(
            liveRecords: slots.filter { $0 != Self.empty && $0 != Self.removed }.map(Int.init), addresses: addresses)
    }
}
