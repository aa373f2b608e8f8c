import CHeapMonitor
import HeapMonitorModel

/// The instances the census's tables did not see born: those alive when it
/// started, found once by walking the heap (`hm_heap_walk`). The walk
/// happens later than the start, in a forked child, so each class's seed is
/// what the walk found minus what the tables had counted by the fork:
/// exact for every object that was not being made or freed at that instant.
struct CensusSeed: Sendable {
    /// One class's instances and bytes: negative when more instances died
    /// than were found (the walk misses an object whose header it could not
    /// prove). `descriptor` is the class's, as the child read it.
    struct Row: Equatable, Sendable {
        var count = 0
        var bytes = 0
        var descriptor: UInt = 0
    }

    /// Rows by class metadata.
    var rows: [UInt: Row] = [:]
    /// Objects of any kind the walk found, and the bytes of the mappings it
    /// walked.
    var objects = 0
    var scannedBytes = 0

    /// The seed as of now: walks the heap and subtracts the tables. Only
    /// where nothing changes the heap — in a forked child.
    static func walk(excluding ranges: RootRanges) -> CensusSeed? {
        let checker = ObjectCheck()
        var census = hm_heap_census()
        let segments = ranges.segments
        let stacks = ranges.stacks.map { hm_range(start: $0.start, end: $0.end) }
        // Room for the tables' rows made before the walk: the child's own
        // allocations after it would count in the tables, not in the walk.
        var counted = [hm_census_row](repeating: hm_census_row(), count: 1 << 16)
        let walked = segments.withUnsafeBufferPointer { segments in
            stacks.withUnsafeBufferPointer { stacks in
                var exclusions = hm_heap_walk_exclusions(
                    segments: segments.baseAddress, segment_count: segments.count, stacks: stacks.baseAddress,
                    stack_count: stacks.count)
                let context = Unmanaged.passUnretained(checker).toOpaque()
                return hm_heap_walk(&census, &exclusions, ObjectCheck.verdict, context)
            }
        }
        let countedRows = hm_census_read(&counted, counted.count)
        guard walked == 0 else { return nil }
        defer { hm_heap_census_free(&census) }
        withExtendedLifetime(checker) {}
        var seed = CensusSeed(objects: Int(census.objects), scannedBytes: Int(census.scanned_bytes))
        for row in UnsafeBufferPointer(start: census.rows, count: census.capacity) where row.metadata != 0 {
            seed.rows[row.metadata] = Row(count: Int(clamping: row.count), bytes: Int(clamping: row.bytes))
        }
        for row in counted.prefix(min(countedRows, counted.count)) {
            guard let metadata = row.metadata.map(UInt.init(bitPattern:)) else { continue }
            seed.rows[metadata, default: Row()].count &-= Int(row.allocations &- row.deallocations)
            seed.rows[metadata, default: Row()].bytes &-= Int(row.allocated_bytes &- row.deallocated_bytes)
        }
        for metadata in seed.rows.keys {
            seed.rows[metadata]?.descriptor = UnsafeRawPointer(bitPattern: metadata)!
                .load(fromByteOffset: 40, as: UInt.self)
        }
        return seed
    }

    /// The rows whose metadata is this process's: counted by its tables,
    /// or class metadata here with the descriptor the child saw. The child
    /// makes metadata of its own (a generic class first used there), which
    /// does not exist here, and naming it would hand the runtime garbage.
    func keepingThisProcesssClasses(counted: Set<UInt>) -> CensusSeed {
        var check = MetadataCheck()
        var kept = self
        kept.rows = rows.filter { metadata, row in
            if counted.contains(metadata) { return true }
            guard let pointer = UnsafeRawPointer(bitPattern: metadata), check.isObjectMetadata(pointer),
                pointer.load(as: UInt.self) == 0
            else { return false }
            return pointer.load(fromByteOffset: 40, as: UInt.self) == row.descriptor
        }
        return kept
    }

    /// Asks `MetadataCheck` about words the walk finds in a header's place.
    private final class ObjectCheck {
        var check = MetadataCheck(memory: MemoryMap(), refreshing: false)

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
        varint(seed.rows.count)
        for (metadata, row) in seed.rows {
            varint(UInt64(metadata))
            signed(Int64(row.count))
            signed(Int64(row.bytes))
            varint(UInt64(row.descriptor))
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
            seed.rows[metadata] = CensusSeed.Row(
                count: Int(try signed()), bytes: Int(try signed()), descriptor: UInt(try varint()))
        }
        return seed
    }
}
