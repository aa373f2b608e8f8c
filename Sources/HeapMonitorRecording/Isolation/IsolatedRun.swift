import CHeapMonitor
#if canImport(Glibc)
import Glibc
#endif
import HeapMonitorModel

/// Runs a closure in a forked child and brings back the bytes it returns.
///
/// The child has one thread (the caller's), a copy of the heap frozen at the
/// fork, and the rules written in `isolation.c`: read memory, allocate with
/// malloc, write to the pipe, `_exit`. Nothing in the closure may wait for
/// another thread (locks, Dispatch, Swift concurrency) or write to files
/// the parent owns; the tracker's lock is held by the caller across the
/// fork, so the child uses the state it was handed, never the lock.
enum IsolatedRun {
    /// The result's framing: a length before, the deferred lookups and a
    /// marker after, so that a result cut short is told from a whole one
    /// even when someone else reaps the child (a host's SIGCHLD handler).
    private static let endMarker: UInt32 = 0x484D_4952  // "HMIR"

    /// What a child sent back.
    struct Outcome {
        /// `body`'s bytes.
        var bytes: [UInt8]
        /// The runtime calls the child refused to make (`RuntimeLookups`).
        var deferred: [DeferredLookup]
        var run: IsolatedAnalysis
    }

    /// `body`'s bytes as computed in a child, what the child deferred, and
    /// how the run went. The child is killed at `deadline` (`hm_clock_ns`),
    /// by default `timeout` from now: the limit of the whole analysis, which
    /// a time-out reports.
    static func run(
        timeout: Duration, deadline: UInt64? = nil, _ body: () -> [UInt8]
    ) throws(AnalysisError) -> Outcome {
        let start = hm_clock_ns()
        var readEnd: Int32 = -1, writeEnd: Int32 = -1
        var forkNanoseconds: UInt64 = 0
        let child = hm_isolation_fork(&readEnd, &writeEnd, &forkNanoseconds)
        if child == 0 { childMain(writeEnd, body) }
        guard child > 0 else { throw .forkRefused(errno: errno) }
        defer { close(readEnd) }
        let deadline = deadline ?? start + UInt64(timeout.nanoseconds)
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        let read = hm_read_until(readEnd, child, deadline, &buffer, &length)
        defer { free(buffer) }
        var status: Int32 = 0
        let waited = hm_isolation_wait(child, read == 1 ? max(deadline, hm_clock_ns() + 1_000_000_000) : 0, &status)
        if read == 2 { throw .childBlocked }
        if read == 0 || waited == 0 { throw .timedOut(after: timeout) }
        if waited == 1, status & 0x7F != 0 { throw .childCrashed(signal: status & 0x7F) }
        guard read == 1, let buffer else { throw .malformedResult(String(cString: strerror(errno))) }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        guard let (payload, deferred) = unframe(bytes) else {
            if waited == 1, (status >> 8) & 0xFF != 0 { throw .childFailed(status: (status >> 8) & 0xFF) }
            throw .malformedResult("\(length) bytes without a whole result")
        }
        let run = IsolatedAnalysis(
            pause: .nanoseconds(Int64(forkNanoseconds)),
            latency: .nanoseconds(Int64(hm_clock_ns() - start)), resultBytes: payload.count,
            forks: 1, deferredLookups: deferred.count)
        return Outcome(bytes: Array(payload), deferred: deferred, run: run)
    }

    /// The child: computes, sends, and ends without running anything of the
    /// host's (no atexit handlers, no stdio flush).
    private static func childMain(_ pipe: Int32, _ body: () -> [UInt8]) -> Never {
        var framed = ByteEncoder()
        let payload = body()
        framed.varint(payload.count)
        framed.bytes.append(contentsOf: payload)
        RuntimeLookups.encodeDeferred(into: &framed)
        framed.fixed32(endMarker)
        let sent = framed.bytes.withUnsafeBytes { hm_write_all(pipe, $0.baseAddress, $0.count) }
        hm_isolation_exit(sent == 0 ? 0 : 71)
    }

    /// Reads a child's result with `read`, which must take all of it.
    static func decode<Value>(
        _ bytes: [UInt8], _ read: (inout ByteDecoder) throws(ProfileError.Problem) -> Value
    )
        throws(AnalysisError) -> Value
    {
        let result: Result<Value, ProfileError.Problem> = bytes.withUnsafeBytes { raw in
            var decoder = ByteDecoder(raw)
            do throws(ProfileError.Problem) {
                let value = try read(&decoder)
                return decoder.isAtEnd ? .success(value) : .failure(.malformed("\(decoder.remaining) bytes left over"))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let problem): throw .malformedResult("\(problem)")
        }
    }

    private static func unframe(
        _ bytes: UnsafeRawBufferPointer
    ) -> (UnsafeRawBufferPointer, [DeferredLookup])? {
        var decoder = ByteDecoder(bytes)
        guard let length = try? decoder.int(max: decoder.remaining, "result length") else { return nil }
        let start = decoder.offset
        guard (try? decoder.skip(length)) != nil,
            let deferred = try? RuntimeLookups.decodeDeferred(from: &decoder),
            decoder.remaining == 4, (try? decoder.fixed32()) == endMarker
        else { return nil }
        return (decoder.slice(start..<(start + length)), deferred)
    }
}
