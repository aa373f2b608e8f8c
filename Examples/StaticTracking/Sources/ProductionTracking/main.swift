import HeapMonitor

// Built as production servers are (swift build -c release
// --static-swift-stdlib -Xlinker -ljemalloc) with the recipe in this
// package's manifest: sizes deep-sized against jemalloc's own count, then
// tracked instances counted. Prints one line for check-static-stdlib.sh.

final class Order {
    let id: Int
    var lines: [Line]
    init(id: Int) {
        self.id = id
        lines = (1...3).map(Line.init)
    }
}

final class Line {
    let quantity: Int
    init(quantity: Int) { self.quantity = quantity }
}

do {
    let before = ProcessMemory.current().allocatorBytes
    let orders = (0..<20_000).map(Order.init)
    let allocated = ProcessMemory.current().allocatorBytes - before
    let deep = deepSize(of: orders)

    let tracker = Tracker.shared
    try tracker.track(class: Order.self)
    try tracker.track(class: Line.self)
    var tracked = (0..<1_000).map(Order.init)
    _ = tracker.objects  // read once: the 400 that die next are kept as records, not dropped as short-lived
    tracked.removeLast(400)
    func counts(_ type: String) -> String {
        let objects = tracker.objects(ofClass: type)
        return "\(objects.count) alive \(objects.filter(\.isAlive).count)"
    }
    print("allocator \(ProcessMemory.allocator) deep \(deep) allocated \(allocated) "
          + "orders \(counts("ProductionTracking.Order")) lines \(counts("ProductionTracking.Line")) "
          + "kept \(tracked.count + orders.count)")
} catch {
    print("error: \(error)")
}
