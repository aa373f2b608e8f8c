import CHeapMonitor
import HeapMonitorModel

/// The instances the census's tables did not see born: those alive when it
/// started, found once by walking the heap (`hm_heap_walk`). The walk
/// happens later than the start, in a forked child, so each class's seed is
/// what the walk found minus what the tables had counted by the fork:
/// exact for every object that was not being made or freed at that instant.
struct CensusSeed: Sendable {
    /// Instances and bytes by class metadata; negative when more instances
    /// died than were found (the walk misses an object whose header it
    /// could not prove).
    var counts: [UInt: (count: Int, bytes: Int)] = [:]
    /// Objects of any kind the walk found, and the bytes it read.
    var objects = 0
    var scannedBytes = 0

    /// The seed as of now: walks the heap and subtracts the tables. Only
    /// where nothing changes the heap — in a forked child.
    static func walk(excluding ranges: RootRanges) -> CensusSeed? {
        let checker = ObjectCheck()
        var census = hm_heap_census()
        let segments = ranges.segments
        let stacks = ranges.stacks.map { hm_range(start: $0.start, end: $0.end) }
        let walked = segments.withUnsafeBufferPointer { segments in
            stacks.withUnsafeBufferPointer { stacks in
                var exclusions = hm_heap_walk_exclusions(
                    segments: segments.baseAddress, segment_count: segments.count, stacks: stacks.baseAddress,
                    stack_count: stacks.count)
                return hm_heap_walk(&census, &exclusions, ObjectCheck.verdict, Unmanaged.passUnretained(checker).toOpaque())
            }
        }
        guard walked == 0 else { return nil }
        defer { hm_heap_census_free(&census) }
        withExtendedLifetime(checker) {}
        var seed = CensusSeed(objects: Int(census.objects), scannedBytes: Int(census.scanned_bytes))
        for row in UnsafeBufferPointer(start: census.rows, count: census.capacity) where row.metadata != 0 {
            seed.counts[row.metadata] = (Int(row.count), Int(row.bytes))
        }
        for row in Tracker.censusRows() {
            guard let metadata = row.metadata.map(UInt.init(bitPattern:)) else { continue }
            let found = seed.counts[metadata] ?? (0, 0)
            seed.counts[metadata] = (
                found.count - Int(row.allocations - row.deallocations),
                found.bytes - Int(row.allocated_bytes - row.deallocated_bytes)
            )
        }
        return seed
    }

    /// Asks `MetadataCheck` about words the walk finds in a header's place.
    private final class ObjectCheck {
        var check = MetadataCheck()

        static let verdict: hm_class_check = { metadata, context in
            guard let metadata, let context else { return Int32(HM_NOT_AN_OBJECT) }
            let checker = Unmanaged<ObjectCheck>.fromOpaque(context).takeUnretainedValue()
            guard checker.check.isObjectMetadata(metadata) else { return Int32(HM_NOT_AN_OBJECT) }
            // The census leaves out what its tables leave out: metadata
            // that is not a class's, and the standard library's classes.
            let isCounted = metadata.load(as: UInt.self) == 0 && hm_is_runtime_class(metadata) == 0
            return Int32(isCounted ? HM_COUNTED_OBJECT : HM_UNCOUNTED_OBJECT)
        }
    }
}

extension ByteEncoder {
    /// A census seed, for a forked child to send back.
    mutating func censusSeed(_ seed: CensusSeed?) {
        guard let seed else { return varint(0) }
        varint(1)
        varint(seed.objects)
        varint(seed.scannedBytes)
        varint(seed.counts.count)
        for (metadata, found) in seed.counts {
            varint(UInt64(metadata))
            signed(Int64(found.count))
            signed(Int64(found.bytes))
        }
    }
}

extension ByteDecoder {
    /// What `ByteEncoder.censusSeed` wrote.
    mutating func censusSeed() throws(ProfileError.Problem) -> CensusSeed? {
        guard try varint() == 1 else { return nil }
        var seed = CensusSeed(objects: Int(try varint()), scannedBytes: Int(try varint()))
        let count = try varint()
        for _ in 0..<count {
            let metadata = UInt(try varint())
            seed.counts[metadata] = (Int(try signed()), Int(try signed()))
        }
        return seed
    }
}
