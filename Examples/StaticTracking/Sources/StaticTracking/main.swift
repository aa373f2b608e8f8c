import HeapMonitor

final class Item {
    var value: Int
    init(_ value: Int) { self.value = value }
}

// Prints "tracked N alive M" after creating 100 items and freeing 40, or the
// tracker's error.
do {
    let tracker = Tracker.shared
    try tracker.track(class: Item.self)
    var items: [Item] = []
    for index in 0..<100 { items.append(Item(index)) }
    _ = tracker.objects
    items.removeLast(40)
    let objects = tracker.objects
    print("tracked \(objects.count) alive \(objects.filter(\.isAlive).count) kept \(items.count)")
} catch {
    print("error: \(error)")
}
