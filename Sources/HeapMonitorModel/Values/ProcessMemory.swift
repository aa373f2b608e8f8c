/// The process's memory at one instant.
public struct ProcessMemory: Hashable, Sendable, Codable {
    /// Virtual size: every mapped byte (`/proc/self/statm`, first field).
    public var virtualBytes: Int
    /// Resident set size: bytes in RAM (`/proc/self/statm`, second field).
    public var residentBytes: Int
    /// Bytes the allocator has handed out and not taken back (glibc's
    /// `mallinfo2`, jemalloc's `stats.allocated`, tcmalloc's counter).
    public var allocatorBytes: Int

    /// Creates a record of given figures.
    public init(virtualBytes: Int, residentBytes: Int, allocatorBytes: Int) {
        self.virtualBytes = virtualBytes
        self.residentBytes = residentBytes
        self.allocatorBytes = allocatorBytes
    }
}
