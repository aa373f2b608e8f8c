import CHeapMonitor
@testable import HeapMonitorRecording
import Foundation
import Testing

/// A reader's memory map is read once; its own frees may unmap memory
/// after (glibc trims the heap's top, unmaps large blocks). A word that may
/// point anywhere — a global's — is asked of the kernel before it is read:
/// a 10-million-object heap graph crashed its process on such a word.
@Suite("Stale memory maps")
struct StaleMemoryMapTests {
    @Test func theKernelSaysWhatIsMappedNow() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        let address = UInt(bitPattern: region)
        #expect(hm_is_mapped(address + 16, 24) != 0)
        munmap(region, page)
        #expect(hm_is_mapped(address + 16, 24) == 0)
        #expect(hm_is_mapped(0, 8) == 0)
    }

    /// What a class's destroyer is written by: a page's protection now,
    /// and whether a word points into code.
    @Test func theMapsSayWhatEachMappingAllowsNow() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        let code = unsafeBitCast(hm_now as @convention(c) () -> UInt64, to: UInt.self)
        func protections() -> [Int32] {
            var addresses = [UInt(bitPattern: region) + 8, code, 0]
            var found = [Int32](repeating: -1, count: 3)
            hm_mapping_protections(&addresses, &found, 3)
            return found
        }
        let mapped = Int32(HM_MAPPED), writable = Int32(HM_MAPPED_WRITABLE)
        #expect(protections() == [mapped | writable, mapped | Int32(HM_MAPPED_EXECUTABLE), 0])
        mprotect(region, page, PROT_READ)
        #expect(protections()[0] == mapped)
        munmap(region, page)
        #expect(protections()[0] == 0)
    }

    @Test func aConservativeWordIntoMemoryUnmappedSinceTheMapIsRefused() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        // Something shaped like an object header, so that only the kernel's
        // answer stands between the reader and the unmapped page.
        region.storeBytes(of: UInt(bitPattern: region) + 64, toByteOffset: 16, as: UInt.self)
        var engine = SizingEngine(checkingAddresses: true)
        let word = UInt(bitPattern: region) + 16
        let inMap = engine.isReadableObject(word)
        #expect(inMap, "the map read before the unmap still has it")
        munmap(region, page)
        let live = engine.isLiveObject(word, conservative: true)
        #expect(!live)
    }
}
