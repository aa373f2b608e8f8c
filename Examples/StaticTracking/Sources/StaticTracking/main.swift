import Glibc
import HeapMonitor

final class Item {
    var value: Int
    init(_ value: Int) { self.value = value }
}

// Prints "tracked N alive M" after creating 100 items and freeing 40, or the
// tracker's error and then the census of 25 items, which needs no hooks: it
// walks the heap.
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
    let items = (0..<25).map { Item($0) }
    do {
        try Tracker.shared.startControlChannel(snapshotSignal: nil)
        let census = try ControlClient(pid: getpid()).census(limit: 0)
        let counted = census.entries.first { $0.className == "StaticTracking.Item" }?.liveCount ?? 0
        print("census by heap walk: \(counted) items")
    } catch {
        print("census error: \(error)")
    }
    withExtendedLifetime(items) {}
}
