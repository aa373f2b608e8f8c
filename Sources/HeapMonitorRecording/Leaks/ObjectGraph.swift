import CHeapMonitor

@_silgen_name("swift_retainCount")
private func swiftRetainCount(_ object: UnsafeMutableRawPointer) -> Int

/// The strong-reference graph over a set of objects and every heap object
/// between them (array, dictionary and set storage, closure contexts, boxes):
/// nodes with their strong counts, edges as compressed adjacency lists.
struct ObjectGraph {
    /// Node addresses; the first `candidateCount` are the objects scanned,
    /// the rest were reached from them.
    private(set) var addresses: [UInt] = []
    private(set) var candidateCount = 0
    /// Strong retain counts.
    private(set) var strongCounts: [Int] = []
    /// Node `n`'s targets are `targets[edgeStart[n]..<edgeStart[n + 1]]`.
    private(set) var edgeStart: [Int] = [0]
    private(set) var targets: [Int32] = []
    private var index = AddressMap()

    var count: Int { addresses.count }

    func edges(of node: Int) -> ArraySlice<Int32> { targets[edgeStart[node]..<edgeStart[node + 1]] }

    func node(at address: UInt) -> Int? { index[address].map(Int.init) }

    /// Builds the graph from `candidates`, following strong references into
    /// every heap object that can hold another (objects without any strong
    /// reference slot are left out: they close no cycle).
    init(candidates: [UInt], engine: inout SizingEngine) {
        addresses.reserveCapacity(candidates.count * 2)
        // A candidate that died unseen, or is in its deinit, is not read.
        for address in candidates where engine.isLiveObject(address) { _ = add(address) }
        candidateCount = addresses.count
        var references: [UInt] = []
        var next = 0
        while next < addresses.count {
            references.removeAll(keepingCapacity: true)
            engine.directReferences(ofObject: addresses[next], into: &references)
            for target in references {
                guard engine.isReadableObject(target) else { continue }
                let object = HeapObject(UnsafeRawPointer(bitPattern: target)!)
                if object.isImmortal { continue }
                if let known = index[target] {
                    targets.append(known)
                } else if engine.mayHoldReferences(object) {
                    targets.append(add(target))
                }
            }
            edgeStart.append(targets.count)
            next += 1
        }
    }

    private mutating func add(_ address: UInt) -> Int32 {
        let node = Int32(addresses.count)
        if let known = index.insert(node, for: address) { return known }
        addresses.append(address)
        strongCounts.append(swiftRetainCount(UnsafeMutableRawPointer(bitPattern: address)!))
        return node
    }
}

/// Open-addressing map from an object's address to a node number. Key and
/// value share a slot: a probe into a table of millions is one cache miss.
struct AddressMap {
    private struct Entry {
        var key: UInt
        var value: Int32
    }

    private var entries = [Entry](repeating: Entry(key: 0, value: 0), count: 1024)
    private var count = 0

    subscript(address: UInt) -> Int32? {
        get {
            var slot = Self.start(address, entries.count)
            while entries[slot].key != 0 {
                if entries[slot].key == address { return entries[slot].value }
                slot = (slot + 1) & (entries.count - 1)
            }
            return nil
        }
        set {
            guard let newValue else { return }  // entries are never removed
            if (count + 1) * 2 > entries.count { grow() }
            var slot = Self.start(address, entries.count)
            while entries[slot].key != 0 && entries[slot].key != address { slot = (slot + 1) & (entries.count - 1) }
            if entries[slot].key == 0 { count += 1 }
            entries[slot] = Entry(key: address, value: newValue)
        }
    }

    /// `address`'s value if it has one; if not, `value` becomes it and the
    /// result is nil: one probe where a lookup and a store take two.
    mutating func insert(_ value: Int32, for address: UInt) -> Int32? {
        if (count + 1) * 2 > entries.count { grow() }
        var slot = Self.start(address, entries.count)
        while entries[slot].key != 0 {
            if entries[slot].key == address { return entries[slot].value }
            slot = (slot + 1) & (entries.count - 1)
        }
        count += 1
        entries[slot] = Entry(key: address, value: value)
        return nil
    }

    /// Room for `count` entries without growing.
    mutating func reserveCapacity(_ count: Int) {
        while (count + 1) * 2 > entries.count { grow() }
    }

    private static func start(_ address: UInt, _ capacity: Int) -> Int {
        hm_address_hash(address) & (capacity - 1)
    }

    private mutating func grow() {
        let old = entries
        entries = [Entry](repeating: Entry(key: 0, value: 0), count: old.count * 2)
        count = 0
        for entry in old where entry.key != 0 { self[entry.key] = entry.value }
    }
}
