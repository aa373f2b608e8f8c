import CHeapMonitor

/// The process's readable memory at one instant (`/proc/self/maps`), for
/// checking words read from the heap before they are followed.
///
/// In a forked child the map is exact for the child's whole life: nothing
/// else runs there. In the live process it is current when read; a region
/// mapped later is not in it, so it serves one analysis, not a program's life.
final class MemoryMap {
    /// The C map, for hot loops that must not retain this object.
    let map: UnsafeMutablePointer<hm_memory_map>?

    init() { map = hm_memory_map_read() }

    deinit { hm_memory_map_free(map) }

    /// Whether `length` bytes at `address` are readable.
    func isReadable(_ address: UInt, length: Int) -> Bool {
        guard let map else { return false }
        return hm_memory_map_contains(map, address, length, 0) != 0
    }

    /// Whether `address` lies in a readable mapping of a file: the executable
    /// or a library, where type descriptors and static metadata live.
    func isInImage(_ address: UInt, length: Int = 4) -> Bool {
        guard let map else { return false }
        return hm_memory_map_contains(map, address, length, 1) != 0
    }
}
