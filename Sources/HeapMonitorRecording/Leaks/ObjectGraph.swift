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
        if let known = index[address] { return known }
        let node = Int32(addresses.count)
        addresses.append(address)
        strongCounts.append(swiftRetainCount(UnsafeMutableRawPointer(bitPattern: address)!))
        index[address] = node
        return node
    }
}

/// Open-addressing map from an object's address to a node number.
struct AddressMap {
    private var keys = [UInt](repeating: 0, count: 1024)
    private var values = [Int32](repeating: 0, count: 1024)
    private var count = 0

    subscript(address: UInt) -> Int32? {
        get {
            var slot = Self.start(address, keys.count)
            while keys[slot] != 0 {
                if keys[slot] == address { return values[slot] }
                slot = (slot + 1) & (keys.count - 1)
            }
            return nil
        }
        set {
            guard let newValue else { return }  // entries are never removed
            if (count + 1) * 2 > keys.count { grow() }
            var slot = Self.start(address, keys.count)
            while keys[slot] != 0 && keys[slot] != address { slot = (slot + 1) & (keys.count - 1) }
            if keys[slot] == 0 { count += 1 }
            keys[slot] = address
            values[slot] = newValue
        }
    }

    /// Room for `count` entries without growing.
    mutating func reserveCapacity(_ count: Int) {
        while (count + 1) * 2 > keys.count { grow() }
    }

    private static func start(_ address: UInt, _ capacity: Int) -> Int {
        hm_address_hash(address) & (capacity - 1)
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt](repeating: 0, count: oldKeys.count * 2)
        values = [Int32](repeating: 0, count: oldKeys.count * 2)
        count = 0
        for (slot, key) in oldKeys.enumerated() where key != 0 { self[key] = oldValues[slot] }
    }
}
