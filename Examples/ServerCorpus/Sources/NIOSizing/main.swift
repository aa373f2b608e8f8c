import HeapMonitor
import NIOCore

// Ten buffers of 1 MiB, 100 bytes written to each. Prints one line the check
// script reads: how many storage objects were tracked, and the sizes.
let tracker = Tracker.shared
try tracker.track(className: "NIOCore.ByteBuffer._Storage")
var buffers = (0..<10).map { _ in ByteBufferAllocator().buffer(capacity: 1 << 20) }
for index in buffers.indices { buffers[index].writeBytes([UInt8](repeating: 1, count: 100)) }
let snapshot = try tracker.takeSnapshot(named: "ten buffers")
print("tracked \(snapshot.objects.count) tracked_bytes \(snapshot.trackedBytes) deep \(deepSize(of: buffers))")
