import Glibc
import HeapMonitor
import Testing

/// A class that owns a C buffer, as SwiftNIO's `ByteBuffer` storage does.
/// (Internal, not private: its registered name must not depend on an address.)
final class CBuffer {
    var capacity: Int
    var bytes: UnsafeMutableRawPointer
    let owned: Bool

    init(capacity: Int) {
        self.capacity = capacity
        bytes = malloc(max(1, capacity))!
        owned = true
    }

    /// A pointer into memory it does not own: the middle of `block`.
    init(inside block: UnsafeMutableRawPointer, capacity: Int) {
        self.capacity = capacity
        bytes = block + 64
        owned = false
    }

    deinit { if owned { free(bytes) } }
}

/// The same shape, not registered.
final class UnregisteredCBuffer {
    var capacity = 4096
    var bytes = malloc(4096)!
    deinit { free(bytes) }
}

@Suite("Owned C buffers")
struct OwnedBufferTests {
    init() { Sizer.registerOwnedBuffer(className: "HeapMonitorTests.CBuffer", pointer: "bytes", capacity: "capacity") }

    @Test func registeredBuffersCountTheirBlocks() {
        AllocatorOracle.expectExact { CBuffer(capacity: 1000) }
        AllocatorOracle.expectExact { CBuffer(capacity: 1 << 20) }  // a block of its own mapping
        AllocatorOracle.expectExact { [CBuffer(capacity: 10), CBuffer(capacity: 70_000)] }
    }

    /// A pointer that does not start a block of at least the capacity is
    /// left out rather than guessed at.
    @Test func foreignPointersAreLeftOut() {
        let block = calloc(1, 8192)!
        defer { free(block) }
        let foreign = CBuffer(inside: block, capacity: 4000)
        #expect(deepSize(of: foreign) == flatSize(of: foreign))
        let empty = CBuffer(capacity: 0)
        #expect(deepSize(of: empty) == flatSize(of: empty), "capacity 0: nothing claimed")
        let unregistered = UnregisteredCBuffer()
        #expect(deepSize(of: unregistered) == flatSize(of: unregistered))
    }
}
