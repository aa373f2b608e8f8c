import CHeapMonitor
import Glibc
import HeapMonitor
import Testing

/// The ground truth for sizes: what the allocator handed out while a value was
/// built. The value is built twice and the second build measured, so that
/// one-time allocations (generic metadata, caches) do not count. Tests run
/// serially (`swift test --no-parallel`), so nothing else allocates meanwhile.
///
/// Each build runs on a thread of its own: glibc counts blocks parked in a
/// thread's cache (tcache) as in use, and returns them when the thread ends,
/// so only after the join does the in-use delta equal what the value holds.
struct AllocatorOracle {
    /// Heap bytes the value built by `build` holds, and the value itself.
    static func measure<T>(_ build: @escaping () -> T) -> (bytes: Int, value: T) {
        var warmUp: T?
        ThreadJob { warmUp = build() }.runOnFreshThread()
        warmUp = nil
        // Everything this thread allocates for the job exists before `before`,
        // so that it frees nothing into its own cache while measuring.
        var result: T?
        let job = ThreadJob { result = build() }
        let before = allocatorInUse()
        job.runOnFreshThread()
        let bytes = allocatorInUse() - before
        return (bytes, result!)
    }

    /// Expects `deepSize` of the value (less its inline bytes for a value type)
    /// to equal exactly what the allocator holds for it. Measures up to three
    /// times: the test runner's own threads may allocate in the background.
    static func expectExact<T>(_ build: @escaping () -> T, sourceLocation: SourceLocation = #_sourceLocation) {
        var attempts: [(heap: Int, allocator: Int)] = []
        for _ in 0..<3 {
            let (bytes, value) = measure(build)
            let heap = deepSize(of: value) - inlineBytes(of: value)
            attempts.append((heap, bytes))
            if heap == bytes { return }
        }
        Issue.record("deep heap size differs from the allocator: \(attempts)", sourceLocation: sourceLocation)
    }

    /// A class instance is sized as its block; a value's inline bytes count too.
    static func inlineBytes<T>(of value: T) -> Int {
        T.self is AnyClass ? 0 : MemoryLayout<T>.size
    }
}

/// The allocator's block for an object (with its side table, if any).
func blockSize(of object: AnyObject) -> Int {
    let address = UnsafeRawPointer(Unmanaged.passUnretained(object).toOpaque())
    var bytes = hm_block_size(address)
    let bits = address.load(fromByteOffset: 8, as: UInt64.self)
    if bits >> 62 == 0b11 {
        bytes += hm_block_size(UnsafeRawPointer(bitPattern: UInt((bits & ((1 << 62) - 1)) << 3))!)
    }
    return bytes
}

/// A body run on a thread of its own, joined before returning.
private final class ThreadJob {
    let body: () -> Void

    init(_ body: @escaping () -> Void) { self.body = body }

    func runOnFreshThread() {
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<ThreadJob>.fromOpaque(context!).takeUnretainedValue().body()
                return nil
            }, Unmanaged.passUnretained(self).toOpaque())
        precondition(created == 0, "pthread_create failed")
        pthread_join(thread, nil)
    }
}
