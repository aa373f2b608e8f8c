#if canImport(Glibc)
import Glibc
#endif
import CHeapMonitor
import HeapMonitorModel

extension ProcessMemory {
    /// The allocator in use, as `allocatorBytes` reads it: `glibc`,
    /// `jemalloc`, `tcmalloc` or `unknown allocator`.
    ///
    /// ```swift
    /// print(ProcessMemory.allocator)   // "jemalloc" when linked with -ljemalloc
    /// ```
    public static var allocator: String { String(cString: hm_allocator_name()) }

    /// Reads the figures now. Fields the system does not provide are 0.
    public static func current() -> ProcessMemory {
        let (virtual, resident) = statm()
        return ProcessMemory(virtualBytes: virtual, residentBytes: resident, allocatorBytes: allocatorInUse())
    }

    /// As `current()`, but the allocator's figure is refreshed only while
    /// that costs at most 2 % of the time (for background snapshots: on a
    /// fragmented heap `mallinfo2` takes tens of milliseconds, holding the
    /// allocator's locks).
    static func sampled() -> ProcessMemory {
        let (virtual, resident) = statm()
        return ProcessMemory(
            virtualBytes: virtual, residentBytes: resident, allocatorBytes: Int(hm_allocator_in_use_sampled()))
    }

    private static func statm() -> (Int, Int) {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return (0, 0) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return (0, 0) }
        let fields = buffer[0..<count].split(separator: UInt8(ascii: " ")).prefix(2)
            .map { Int(String(decoding: $0, as: UTF8.self)) ?? 0 }
        let page = sysconf(Int32(_SC_PAGESIZE))
        return fields.count == 2 ? (fields[0] * page, fields[1] * page) : (0, 0)
    }
}
