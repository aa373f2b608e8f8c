#if canImport(Glibc)
import Glibc
#endif
import HeapMonitorModel

/// Streams a profile to a file while the program runs: each snapshot, with
/// the classes, traces, objects and deaths recorded since the last one, is
/// written and handed to the kernel before `takeSnapshot` returns, so a
/// program killed afterwards leaves a file that loads up to that snapshot.
struct ProfileWriter: ~Copyable {
    let path: String
    private let descriptor: Int32
    private var encoder = ByteEncoder()
    /// How much of the tracker's state the file holds already.
    private(set) var writtenClasses = 0
    private(set) var writtenTraces = 0
    private(set) var writtenRecords = 0
    /// Records written while alive that have died since.
    var pendingDeaths: [Int] = []
    /// The first write error; the profile stops there and the host goes on.
    private(set) var failure: ProfileError?

    /// Creates (or truncates) the file and writes its header.
    init(path: String) throws(ProfileError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ProfileError(path: path, problem: .unwritable(String(cString: strerror(errno))))
        }
        encoder.bytes = profileHeader()
        flush()
    }

    deinit { close(descriptor) }

    /// Appends one record: kind, payload length, payload, checksum.
    mutating func record(_ kind: ProfileFormat.RecordKind, _ payload: (inout ByteEncoder) -> Void) {
        var body = ByteEncoder()
        body.byte(kind.rawValue)
        payload(&body)
        encoder.byte(kind.rawValue)
        encoder.varint(body.bytes.count - 1)
        encoder.bytes.append(contentsOf: body.bytes[1...])
        encoder.fixed32(body.bytes.withUnsafeBytes { CRC32.checksum($0) })
    }

    /// Hands what was appended to the kernel.
    mutating func flush() {
        guard failure == nil else { encoder.bytes.removeAll(); return }
        var written = 0
        encoder.bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = ProfileError(path: path, problem: .unwritable(String(cString: strerror(errno))))
                    return
                }
                written += result
            }
        }
        encoder.bytes.removeAll(keepingCapacity: encoder.bytes.count < 1 << 22)
    }
}

/// A tracked object as a profile records it.
struct ProfiledObject {
    var id: Int
    var classID: Int
    var name: String?
    var birth: Duration
    var death: Duration?
    var resolutionLevel: Int
    /// 0 when no trace was recorded.
    var traceID: Int
}

// The records, one value at a time (docs/ProfileFormat.md). The writer
// knows the format, not the tracker: the tracker hands it what is new.
extension ProfileWriter {
    mutating func writeClass(id: Int, name: String) {
        record(.classInfo) { $0.varint(id); $0.string(name) }
        writtenClasses += 1
    }

    mutating func writeTrace(id: Int, frames: [String]) {
        record(.trace) { encoder in
            encoder.varint(id)
            encoder.varint(frames.count)
            for frame in frames { encoder.string(frame) }
        }
        writtenTraces += 1
    }

    mutating func writeDeath(ofObject id: Int, at time: Duration) {
        record(.death) { $0.varint(id); $0.duration(time) }
    }

    mutating func writeObject(_ object: ProfiledObject) {
        record(.object) { encoder in
            encoder.varint(object.id)
            encoder.varint(object.classID)
            encoder.byte((object.name != nil ? 1 : 0) | (object.death != nil ? 2 : 0))
            if let name = object.name { encoder.string(name) }
            encoder.duration(object.birth)
            if let death = object.death { encoder.duration(death) }
            encoder.varint(object.resolutionLevel)
            encoder.varint(object.traceID)
        }
        writtenRecords += 1
    }

    /// The snapshot record, then everything is handed to the kernel.
    mutating func writeSnapshot(_ snapshot: Snapshot, shortLived: [Snapshot.ShortLived]) {
        record(.snapshot) { encoder in
            encoder.duration(snapshot.time)
            encoder.string(snapshot.description)
            encoder.varint(snapshot.memory.virtualBytes)
            encoder.varint(snapshot.memory.residentBytes)
            encoder.varint(snapshot.memory.allocatorBytes)
            encoder.varint(snapshot.monitorBytes)
            encoder.varint(snapshot.liveObjectCount)
            encoder.objectSizes(of: snapshot)
            encoder.census(snapshot.census)
            encoder.varint(shortLived.count)
            for row in shortLived {
                encoder.varint(row.classID)
                encoder.varint(row.count)
                encoder.duration(row.totalLifetime)
            }
            encoder.varint((snapshot.sizedObjects ? ProfileFormat.SnapshotFlags.sizedObjects : 0)
                | (snapshot.isBackground ? ProfileFormat.SnapshotFlags.background : 0))
        }
        flush()
    }

    /// A leak scan's record, then everything is handed to the kernel.
    mutating func writeLeaks(_ report: LeakReport, at time: Duration) {
        record(.leaks) { encoder in
            encoder.duration(time)
            encoder.leakReport(report)
        }
        flush()
    }

    /// A heap graph's record, then everything is handed to the kernel.
    mutating func writeHeapGraph(_ graph: HeapGraph, at time: Duration) {
        record(.heapGraph) { encoder in
            encoder.duration(time)
            encoder.heapGraph(graph)
        }
        flush()
    }

    /// The end record; returns the first write error, if any.
    consuming func finish() -> ProfileError? {
        record(.end) { _ in }
        flush()
        return failure
    }
}
