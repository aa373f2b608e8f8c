import CHeapMonitor
@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

private final class Plain { var number = 1 }
private class Base { var name = "base" }
private final class Derived<T>: Base { var value: T? }
private final class Chunk: ManagedBuffer<Int, Plain> {}
private class Holder<T> { var held: [T] = [] }
private final class NamedHolder: Holder<String> { var name = "h" }
private actor Counter { var count = 0 }
private struct Pair { var a: Plain; var b = 2 }
private enum Choice { case one(Plain), two }

private func passesAsObject(_ metadata: UnsafeRawPointer) -> Bool {
    var check = MetadataCheck()
    return check.isObjectMetadata(metadata)
}

private func passesAsType(_ metadata: UnsafeRawPointer) -> Bool {
    var check = MetadataCheck()
    return check.isTypeMetadata(metadata)
}

/// Words taken for metadata are proven before anything reads through them.
@Suite("Metadata checks")
struct MetadataCheckTests {
    private func metadata(of object: AnyObject) -> UnsafeRawPointer {
        Unmanaged.passUnretained(object).toOpaque().load(as: UnsafeRawPointer.self)
    }

    @Test func realObjectsPass() {
        let objects: [AnyObject] = [
            Plain(), Derived<String>(), Derived<[Int]>(), NSObject(), JSONEncoder(),
            [Plain()] as AnyObject, Chunk.create(minimumCapacity: 4) { _ in 0 }, NamedHolder(), Counter(),
        ]
        for object in objects {
            #expect(passesAsObject(metadata(of: object)), "\(type(of: object))")
        }
    }

    @Test func realValueTypesPass() {
        for type in [
            Pair.self, Choice.self, Int.self, String.self, [Int].self, (Int, String).self,
            Optional<Plain>.self, Any.self,
        ] as [Any.Type] {
            #expect(passesAsType(Metadata(type).pointer), "\(type)")
        }
    }

    @Test func garbageFails() {
        let freed = malloc(64)!
        memset(freed, 0x5A, 64)
        let heapNoise = UnsafeRawPointer(freed)
        for word: UInt in [0x1001, 0x7F00_0000_0003, 0x1000_0000_0000, 0xFFFF_FFFF_FFFF_FFF8] {
            #expect(!passesAsObject(UnsafeRawPointer(bitPattern: word)!), "\(word)")
        }
        #expect(!passesAsObject(heapNoise), "bytes on the heap are no metadata")
        free(freed)
        #expect(!passesAsObject(Metadata(Pair.self).pointer), "a struct's metadata is no object's")
        #expect(!passesAsType(heapNoise))
    }

    /// A word that looks like class metadata but names a descriptor (in an
    /// image) whose numbers put the class's members outside it, or that has
    /// no name, fails: reading them, as layouts do for generic arguments,
    /// field offsets and names, would fault.
    @Test func metadataWhoseDescriptorLeadsOutsideItFails() {
        for descriptor: Int32 in [0, 1, 2, 3] {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)
            defer { block.deallocate() }
            block.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
            let fake = block + 16
            fake.storeBytes(of: 32, toByteOffset: 24, as: UInt32.self)  // instance size
            fake.storeBytes(of: 7, toByteOffset: 28, as: UInt16.self)  // alignment mask
            fake.storeBytes(of: 240, toByteOffset: 32, as: UInt32.self)  // metadata size
            fake.storeBytes(of: 16, toByteOffset: 36, as: UInt32.self)  // address point
            fake.storeBytes(of: hm_test_class_descriptor(descriptor), toByteOffset: 40, as: UnsafeRawPointer.self)
            #expect(!passesAsObject(fake), "descriptor \(descriptor)")
        }
    }

    /// An object in its deinit is seen as such, with and without the side
    /// table a weak reference gives it; a live one is not.
    @Test(arguments: [false, true])
    func objectsInTheirDeinitAreSeen(weaklyReferenced: Bool) {
        final class Dying {
            nonisolated(unsafe) static var seen: Bool?
            deinit { Self.seen = HeapObject(Unmanaged.passUnretained(self).toOpaque()).isDeiniting }
        }
        var object: Dying? = Dying()
        weak var observer = weaklyReferenced ? object : nil
        let live = HeapObject(Unmanaged.passUnretained(object!).toOpaque())
        #expect((live.sideTable != nil) == weaklyReferenced)
        #expect(!live.isDeiniting)
        object = nil
        #expect(Dying.seen == true)
        #expect(observer == nil)
    }

    /// An existential whose type word is not metadata (torn down, or never
    /// a value) is not read through.
    @Test func anExistentialWithAGarbageTypeIsSkipped() {
        let container = UnsafeMutableRawPointer.allocate(byteCount: 40, alignment: 16)
        defer { container.deallocate() }
        let noise = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        defer { noise.deallocate() }
        noise.initializeMemory(as: UInt8.self, repeating: 0xA5, count: 64)
        container.initializeMemory(as: UInt.self, repeating: 0, count: 5)
        container.storeBytes(of: UInt(bitPattern: noise) + 8, toByteOffset: 24, as: UInt.self)
        var engine = SizingEngine(checkingAddresses: true)
        var references: [UInt] = []
        engine.walkExistential(UnsafeRawPointer(container))
        engine.directReferences(
            inSlots: engine.valueLayout(Metadata(Any.self)).frozenSlots, at: UnsafeRawPointer(container),
            into: &references)
        #expect(references.isEmpty)
    }

    /// A reference field that dangles — as in an object caught mid-deinit by
    /// a fork — is skipped, not followed.
    @Test func aDanglingReferenceIsSkipped() {
        final class Holder { var first: Plain?; var second: Plain? }
        let holder = Holder()
        holder.second = Plain()
        let fake = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 16)
        fake.initializeMemory(as: UInt.self, repeating: 0x5555_0000_1234_5679, count: 4)
        let field = Unmanaged.passUnretained(holder).toOpaque() + 16
        field.storeBytes(of: UInt(bitPattern: fake), as: UInt.self)
        var engine = SizingEngine(checkingAddresses: true)
        let size = engine.heapSize(ofObject: UInt(bitPattern: Unmanaged.passUnretained(holder).toOpaque()))
        field.storeBytes(of: 0, as: UInt.self)
        fake.deallocate()
        #expect(size == deepSize(of: holder), "the fake object counts nothing; the real one counts")
    }

    /// An allocator that keeps no header before its blocks (jemalloc, the
    /// sanitizers') may put an object first in a mapping: it is readable
    /// there. Where sizes read glibc's header word, that word must be mapped.
    @Test func anObjectFirstInAMappingIsReadableUnlessAHeaderIsRead() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(region != MAP_FAILED)
        defer { munmap(region, 2 * page) }
        try #require(mprotect(region, page, PROT_NONE) == 0)
        let object = UInt(bitPattern: region + page)
        // The engine is not copyable: results are taken before expectations.
        let withoutHeaders = SizingEngine(checkingAddresses: true, blockHeader: 0)
        let withHeaders = SizingEngine(checkingAddresses: true, blockHeader: 8)
        let first = (withoutHeaders.isReadableObject(object), withHeaders.isReadableObject(object))
        let second = withHeaders.isReadableObject(object + 16)
        let inProtectedPage = withoutHeaders.isReadableObject(object - 16)
        #expect(first == (true, false))
        #expect(second && !inProtectedPage)
    }

    /// Objects of every size are readable where the allocator put them: under
    /// the thread sanitizer the first block of each size class starts its
    /// region, with nothing mapped before it.
    @Test func newBlocksOfManySizesAreReadableObjects() {
        var arrays: [[UInt8]] = []
        var unreadable: [Int] = []
        for count in stride(from: 3_000, to: 140_000, by: 7_919) {
            let array = [UInt8](repeating: 1, count: count)
            // The storage object's header is 32 bytes before its elements.
            let object = array.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress!) } - 32
            let readable = SizingEngine(checkingAddresses: true).isReadableObject(object)
            if !readable { unreadable.append(count) }
            arrays.append(array)
        }
        withExtendedLifetime(arrays) { #expect(unreadable.isEmpty, "element counts") }
    }
}
