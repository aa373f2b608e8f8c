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
    var writtenClasses = 0
    var writtenTraces = 0
    var writtenRecords = 0
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

    /// Seconds on the monitor's clock as nanoseconds.
    static func nanoseconds(_ seconds: Double) -> UInt64 { seconds > 0 ? UInt64(seconds * 1e9) : 0 }
}

extension TrackerState {
    /// Writes what the profile lacks and the snapshot, then flushes.
    mutating func writeProfile(_ snapshot: Snapshot) {
        guard var writer = profile.take() else { return }
        while writer.writtenClasses < classMetadata.count {
            let id = writer.writtenClasses
            let name = className(UInt32(id))
            writer.record(.classInfo) {
                $0.varint(id); $0.string(name)
            }
            writer.writtenClasses += 1
        }
        while writer.writtenTraces < traces.count {
            let id = writer.writtenTraces
            let frames = traces[id].symbolicated().map(\.description)
            writer.record(.trace) { encoder in
                encoder.varint(id)
                encoder.varint(frames.count)
                for frame in frames { encoder.string(frame) }
            }
            writer.writtenTraces += 1
        }
        for record in writer.pendingDeaths where records.deaths[record] != 0 {
            let death = ProfileWriter.nanoseconds(MonitorClock.seconds(records.deaths[record]))
            writer.record(.death) {
                $0.varint(record); $0.varint(death)
            }
        }
        writer.pendingDeaths.removeAll()
        while writer.writtenRecords < records.count {
            let object = trackedObject(writer.writtenRecords)
            let classID = Int(records.classes[object.id])
            writer.record(.object) { encoder in
                encoder.varint(object.id)
                encoder.varint(classID)
                encoder.byte((object.name != nil ? 1 : 0) | (object.death != nil ? 2 : 0))
                if let name = object.name { encoder.string(name) }
                encoder.varint(ProfileWriter.nanoseconds(object.birth))
                if let death = object.death { encoder.varint(ProfileWriter.nanoseconds(death)) }
                encoder.varint(object.resolutionLevel)
                encoder.varint(Int(records.traces[object.id]))
            }
            writer.writtenRecords += 1
        }
        let shortLivedRows = shortLived.map { (Int($0.key), $0.value) }.sorted { $0.0 < $1.0 }
        let secondsPerTick = MonitorClock.secondsPerTick
        writer.record(.snapshot) { encoder in
            encoder.varint(ProfileWriter.nanoseconds(snapshot.time))
            encoder.string(snapshot.description)
            encoder.varint(snapshot.memory.virtualBytes)
            encoder.varint(snapshot.memory.residentBytes)
            encoder.varint(snapshot.memory.allocatorBytes)
            encoder.varint(snapshot.monitorBytes)
            encoder.varint(snapshot.liveObjectCount)
            encoder.objectSizes(snapshot.objects)
            encoder.varint(snapshot.census.count)
            for entry in snapshot.census {
                encoder.string(entry.className)
                encoder.varint(entry.liveCount)
                encoder.varint(entry.liveBytes)
                encoder.varint(entry.allocations)
            }
            encoder.varint(shortLivedRows.count)
            for (classID, entry) in shortLivedRows {
                encoder.varint(classID)
                encoder.varint(entry.count)
                encoder.varint(UInt64(Double(entry.lifetime) * secondsPerTick * 1e9))
            }
            encoder.varint(
                (snapshot.sizedObjects ? ProfileFormat.SnapshotFlags.sizedObjects : 0)
                    | (snapshot.isBackground ? ProfileFormat.SnapshotFlags.background : 0))
        }
        writer.flush()
        profile = consume writer
    }

    /// Records a leak scan and flushes.
    mutating func writeLeaks(_ report: LeakReport) {
        guard var writer = profile.take() else { return }
        writer.record(.leaks) { encoder in
            encoder.varint(ProfileWriter.nanoseconds(MonitorClock.elapsed))
            encoder.leakReport(report)
        }
        writer.flush()
        profile = consume writer
    }

    /// Ends the profile: an end record, and the file is closed.
    mutating func finishProfile() -> ProfileError? {
        guard var writer = profile.take() else { return nil }
        writer.record(.end) { _ in }
        writer.flush()
        return writer.failure
    }
}
