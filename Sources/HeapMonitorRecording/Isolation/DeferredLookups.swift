import CHeapMonitor
import HeapMonitorModel

/// A runtime call a forked child did not make, for its parent to make before
/// it forks again: the layout or the name of one type.
struct DeferredLookup: Hashable {
    enum Need: UInt8 { case valueLayout = 1, objectLayout, name }

    var metadata: Metadata
    var need: Need
}

/// Whether this process may call the runtime for what a lookup needs, and
/// what a forked child needed but did not ask.
///
/// Resolving a mangled type name (which may instantiate metadata) and naming
/// a type (a cached demangling) take runtime locks. In a child made by
/// `IsolatedRun`, another of the host's threads may have held such a lock at
/// the instant of the fork, and then it stays held for good: the call would
/// hang the child until its deadline. So a child makes none of these calls.
/// `LayoutBuilder` notes each layout or name a refused call left incomplete;
/// the child sends the notes back with its result, and the parent, where the
/// locks work, makes the calls and forks again (`TrackerState.analyse`).
enum RuntimeLookups {
    /// Calls refused in this process (only a child refuses any).
    nonisolated(unsafe) private(set) static var refusals = 0
    /// What the refused calls left incomplete, in the order met.
    nonisolated(unsafe) private(set) static var deferred: [DeferredLookup] = []
    nonisolated(unsafe) private static var noted: Set<DeferredLookup> = []

    // The three statics above are written only in a child, which has a
    // single thread; in the parent they stay empty and are only read.

    /// Whether a runtime call may be made here. In a child, counts the call
    /// as refused and answers false.
    static func mayCall() -> Bool {
        guard hm_is_isolation_child() != 0 else { return true }
        refusals += 1
        return false
    }

    /// Notes `lookup` when calls were refused after the count `refusals`
    /// was read (while its layout or name was made).
    static func note(_ lookup: DeferredLookup, ifRefusedSince count: Int) {
        guard refusals != count, noted.insert(lookup).inserted else { return }
        deferred.append(lookup)
    }

    /// The deferred lookups as a child sends them: a count, then each one's
    /// need and metadata address.
    static func encodeDeferred(into encoder: inout ByteEncoder) {
        encoder.varint(deferred.count)
        for lookup in deferred {
            encoder.byte(lookup.need.rawValue)
            encoder.varint(UInt64(UInt(bitPattern: lookup.metadata.pointer)))
        }
    }

    /// Reads what `encodeDeferred` wrote.
    static func decodeDeferred(
        from decoder: inout ByteDecoder
    ) throws(ProfileError.Problem) -> [DeferredLookup] {
        let count = try decoder.int(max: decoder.remaining, "deferred lookups")
        var lookups: [DeferredLookup] = []
        for _ in 0..<count {
            guard let need = DeferredLookup.Need(rawValue: try decoder.byte()) else {
                throw .malformed("a deferred lookup of no known kind")
            }
            let address = UInt(truncatingIfNeeded: try decoder.varint())
            guard let pointer = UnsafeRawPointer(bitPattern: address) else {
                throw .malformed("a deferred lookup of a null type")
            }
            lookups.append(DeferredLookup(metadata: Metadata(pointer), need: need))
        }
        return lookups
    }
}
