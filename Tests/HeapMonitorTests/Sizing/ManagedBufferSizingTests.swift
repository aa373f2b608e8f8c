import HeapMonitor
import Testing

/// A buffer of strings whose header counts the initialised ones.
final class StringChunk: ManagedBuffer<StringChunk.Header, String> {
    struct Header {
        var flags: UInt8 = 0
        var counts = Counts()
    }

    struct Counts {
        var used: UInt16 = 0
    }

    /// A chunk with room for `capacity` strings, the first `count` set.
    static func make(capacity: Int, count: Int) -> StringChunk {
        let chunk = create(minimumCapacity: capacity) { _ in Header() } as! StringChunk
        chunk.withUnsafeMutablePointers { header, elements in
            for index in 0..<count { (elements + index).initialize(to: "string number \(index) in a chunk") }
            header.pointee.counts.used = UInt16(count)
        }
        return chunk
    }

    deinit {
        _ = withUnsafeMutablePointers { header, elements in
            elements.deinitialize(count: Int(header.pointee.counts.used))
        }
    }
}

/// A ring of nodes: `count` of `capacity` slots from `start` on.
final class NodeRing<Element: AnyObject>: ManagedBuffer<NodeRing.Header, Element> {
    struct Header {
        var capacity: Int
        var count = 0
        var start = 0
    }

    static func make(capacity: Int, start: Int, elements: [Element]) -> NodeRing {
        let ring = create(minimumCapacity: capacity) { _ in Header(capacity: capacity) } as! NodeRing
        ring.withUnsafeMutablePointers { header, slots in
            for (offset, element) in elements.enumerated() {
                (slots + (start + offset) % capacity).initialize(to: element)
            }
            header.pointee.count = elements.count
            header.pointee.start = start
        }
        return ring
    }

    deinit {
        withUnsafeMutablePointers { header, slots in
            for offset in 0..<header.pointee.count {
                (slots + (header.pointee.start + offset) % header.pointee.capacity).deinitialize(count: 1)
            }
        }
    }
}

final class RingItem {
    let bytes: [UInt8]
    init(bytes: Int) { self.bytes = [UInt8](repeating: 1, count: bytes) }
}

final class Marker {}

/// A buffer of references nobody described.
final class UndescribedBuffer: ManagedBuffer<Int, RingItem> {}

/// A buffer of plain integers nobody described: its block says it all.
final class IntegerBuffer: ManagedBuffer<Int, Int> {}

@Suite("ManagedBuffer subclasses")
struct ManagedBufferSizingTests {
    init() throws {
        try Sizer.describeManagedBuffer(StringChunk.self, elements: .prefix(countedBy: "counts.used"))
        try Sizer.describeManagedBuffer(
            NodeRing<RingItem>.self, elements: .ring(capacity: "capacity", count: "count", start: "start"))
    }

    @Test func describedElementsAreSizedExactly() {
        AllocatorOracle.expectExact { StringChunk.make(capacity: 64, count: 40) }
    }

    @Test func elementsPastTheCountAreNotRead() {
        // Uninitialised slots hold whatever was there: with the count at 3,
        // only three strings are followed.
        let chunk = StringChunk.make(capacity: 64, count: 3)
        let strings = (0..<3).map { index in chunk.withUnsafeMutablePointerToElements { $0[index] } }
        let sizer = Sizer()
        #expect(sizer.deepSize(of: chunk) == blockSize(of: chunk) + strings.map(stringBytes).reduce(0, +))
        #expect(sizer.opaqueTypeNames.isEmpty)
    }

    @Test func aRingIsReadAcrossItsEnd() {
        AllocatorOracle.expectExact {
            NodeRing.make(capacity: 8, start: 6, elements: (0..<5).map { _ in RingItem(bytes: 100) })
        }
    }

    @Test func oneDescriptionCoversEveryGenericInstance() {
        // Described as `NodeRing<RingItem>`.
        AllocatorOracle.expectExact {
            NodeRing.make(capacity: 4, start: 3, elements: [Marker(), Marker(), Marker()])
        }
    }

    @Test func aCountLargerThanTheBlockReadsNothing() {
        let chunk = StringChunk.make(capacity: 4, count: 0)
        chunk.header.counts.used = 5000
        defer { chunk.header.counts.used = 0 }
        let sizer = Sizer()
        #expect(sizer.deepSize(of: chunk) == blockSize(of: chunk))
    }

    @Test func undescribedReferencesAreLeftOutAndSaidSo() {
        let buffer = UndescribedBuffer.create(minimumCapacity: 4) { _ in 0 } as! UndescribedBuffer
        let sizer = Sizer()
        #expect(sizer.deepSize(of: buffer) == blockSize(of: buffer))
        #expect(sizer.opaqueTypeNames == ["HeapMonitorTests.UndescribedBuffer"])
    }

    @Test func undescribedPlainElementsAreExact() {
        AllocatorOracle.expectExact { IntegerBuffer.create(minimumCapacity: 100) { _ in 0 } as! IntegerBuffer }
        let buffer = IntegerBuffer.create(minimumCapacity: 100) { _ in 0 }
        let sizer = Sizer()
        _ = sizer.deepSize(of: buffer)
        #expect(sizer.opaqueTypeNames.isEmpty)
    }

    /// `()` as the header is no value to scan (BigString's chunks have one).
    @Test func anEmptyHeaderIsEmpty() {
        AllocatorOracle.expectExact { ManagedBuffer<Void, UInt8>.create(minimumCapacity: 100) { _ in () } }
        let sizer = Sizer()
        _ = sizer.deepSize(of: ManagedBuffer<Void, UInt8>.create(minimumCapacity: 100) { _ in () })
        #expect(sizer.opaqueTypeNames.isEmpty)
    }

    @Test func aPathThatIsNotAnIntegerIsRefused() {
        #expect(throws: ManagedBufferDescriptionError.self) {
            try Sizer.describeManagedBuffer(StringChunk.self, elements: .prefix(countedBy: "counts"))
        }
        #expect(throws: ManagedBufferDescriptionError.self) {
            try Sizer.describeManagedBuffer(StringChunk.self, elements: .prefix(countedBy: "missing"))
        }
    }
}

/// Heap bytes of a string's storage; none for a small string.
private func stringBytes(_ string: String) -> Int {
    let sizer = Sizer()
    return sizer.deepSize(of: string) - MemoryLayout<String>.size
}
