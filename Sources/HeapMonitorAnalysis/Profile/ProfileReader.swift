#if canImport(Glibc)
import Glibc
#endif
import HeapMonitorModel

extension Profile {
    /// Reads the profile at `path`.
    ///
    /// A file that ends inside a record — the program was killed while
    /// writing — loads up to its last complete record (`isComplete` is
    /// false). Anything else that is wrong is an error naming the file and the
    /// problem; nothing in the file can make the reader allocate more than the
    /// file's size warrants.
    public static func load(from path: String) throws(ProfileError) -> Profile {
        let bytes = try readFile(path)
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(ProfileError) -> Profile in try parse(buffer, path: path) }
        }
        return try result.get()
    }

    /// Parses a profile held in memory, named `path` in errors. Without
    /// `verifyingChecksums`, damaged records are read as far as they make
    /// sense — to salvage a damaged file, and so that a fuzzer reaches past
    /// the checksums into the parser.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, path: String,
        verifyingChecksums: Bool = true
    ) throws(ProfileError) -> Profile {
        var reader = ProfileReader(bytes: bytes, profile: Profile(path: path), verifyingChecksums: verifyingChecksums)
        do {
            try reader.readHeader()
            try reader.readRecords()
        } catch {
            throw ProfileError(path: path, offset: reader.recordStart, problem: error)
        }
        return reader.profile
    }

    private static func readFile(_ path: String) throws(ProfileError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ProfileError(path: path, problem: .unreadable(String(cString: strerror(errno))))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ProfileError(path: path, problem: .unreadable(String(cString: strerror(errno))))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ProfileError(path: path, problem: .unreadable("not a regular file"))
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                if count == 0 { break }  // shrank while read: take what is there
                throw ProfileError(path: path, problem: .unreadable(String(cString: strerror(errno))))
            }
            filled += count
        }
        return Array(bytes[..<filled])
    }
}

/// The parser behind `Profile.load(from:)`.
private struct ProfileReader {
    let bytes: UnsafeRawBufferPointer
    var profile: Profile
    let verifyingChecksums: Bool
    /// Where the record being read starts (for error messages).
    var recordStart = 0
    /// The file's format version (from its header).
    var version = ProfileFormat.version

    init(bytes: UnsafeRawBufferPointer, profile: Profile, verifyingChecksums: Bool) {
        self.bytes = bytes
        self.profile = profile
        self.verifyingChecksums = verifyingChecksums
    }

    mutating func readHeader() throws(ProfileError.Problem) {
        guard !bytes.isEmpty else { throw .empty }
        let magic = ProfileFormat.magic
        guard bytes.count >= magic.count, zip(bytes, magic).allSatisfy({ $0 == $1 }) else {
            // A prefix of the magic is a header cut short; anything else is not ours.
            if bytes.count < magic.count, zip(bytes, magic).allSatisfy({ $0 == $1 }) { throw .truncated }
            throw .notAProfile
        }
        guard bytes.count >= ProfileFormat.headerSize else { throw .truncated }
        var decoder = ByteDecoder(bytes, from: 8)
        version = Int(try decoder.byte()) | Int(try decoder.byte()) << 8
        _ = try decoder.byte()
        _ = try decoder.byte()
        let checksum = try decoder.fixed32()
        guard !verifyingChecksums || checksum == CRC32.checksum(decoder.slice(8..<12)) else { throw .corrupted }
        guard version >= 1 else { throw .malformed("format version 0") }
        guard version <= ProfileFormat.version else { throw .unsupportedVersion(version) }
        recordStart = ProfileFormat.headerSize
    }

    mutating func readRecords() throws(ProfileError.Problem) {
        var decoder = ByteDecoder(bytes, from: ProfileFormat.headerSize)
        while !decoder.isAtEnd {
            recordStart = decoder.offset
            // A record cut short is the end of a killed program's file.
            let kindByte: UInt8, length: UInt64
            do {
                kindByte = try decoder.byte()
                length = try decoder.varint()
            } catch .truncated {
                profile.unreadBytes = bytes.count - recordStart
                return
            }
            guard length <= UInt64(decoder.remaining), decoder.remaining - Int(length) >= 4 else {
                profile.unreadBytes = bytes.count - recordStart
                return
            }
            let payloadStart = decoder.offset
            try decoder.skip(Int(length))
            let checksum = try decoder.fixed32()
            if verifyingChecksums {
                var checked = [kindByte]
                checked.reserveCapacity(Int(length) + 1)
                checked.append(contentsOf: decoder.slice(payloadStart..<(payloadStart + Int(length))))
                guard checked.withUnsafeBytes({ CRC32.checksum($0) }) == checksum else { throw .corrupted }
            }
            guard let kind = ProfileFormat.RecordKind(rawValue: kindByte) else {
                throw .malformed("unknown record kind \(kindByte)")
            }
            var body = ByteDecoder(bytes, from: payloadStart, to: payloadStart + Int(length))
            switch kind {
            case .classInfo: try readClass(&body)
            case .trace: try readTrace(&body)
            case .object: try readObject(&body)
            case .death: try readDeath(&body)
            case .snapshot: try readSnapshot(&body)
            case .leaks: try readLeaks(&body)
            case .heapGraph:
                let time = Self.time(try body.varint())
                profile.heapGraphs.append(Profile.HeapGraphCapture(time: time, graph: try body.heapGraph()))
            case .end:
                profile.isComplete = true
                return
            }
            guard body.isAtEnd else { throw .malformed("a \(kind) record has \(body.remaining) bytes left over") }
        }
    }

    private mutating func readClass(_ body: inout ByteDecoder) throws(ProfileError.Problem) {
        let id = try body.int("class id")
        guard id == profile.classNames.count else { throw .malformed("class id \(id) out of order") }
        profile.classNames.append(try body.string())
    }

    private mutating func readTrace(_ body: inout ByteDecoder) throws(ProfileError.Problem) {
        let id = try body.int("trace id")
        guard id == profile.traces.count else { throw .malformed("trace id \(id) out of order") }
        let count = try body.count(of: "frames", minimumBytes: 1)
        var frames: [String] = []
        frames.reserveCapacity(count)
        for _ in 0..<count { frames.append(try body.string()) }
        profile.traces.append(frames)
    }

    private mutating func readObject(_ body: inout ByteDecoder) throws(ProfileError.Problem) {
        let id = try body.int("object id")
        guard id == profile.objects.count, id < Int(Int32.max) else { throw .malformed("object id \(id) out of order") }
        let classID = try body.int(max: profile.classNames.count - 1, "class id")
        let flags = try body.byte()
        let name = flags & 1 != 0 ? try body.string() : nil
        let birth = Self.time(try body.varint())
        let death = flags & 2 != 0 ? Self.time(try body.varint()) : nil
        let level = try body.int(max: 1 << 16, "resolution level")
        let trace = try body.int(max: profile.traces.count, "trace id")
        profile.objects.append(
            Profile.Object(
                classID: classID, name: name, birth: birth, death: death,
                resolutionLevel: level, traceID: trace == 0 ? nil : trace - 1))
    }

    private mutating func readDeath(_ body: inout ByteDecoder) throws(ProfileError.Problem) {
        let id = try body.int(max: profile.objects.count - 1, "object id")
        profile.objects[id].death = Self.time(try body.varint())
    }

    private mutating func readSnapshot(_ body: inout ByteDecoder) throws(ProfileError.Problem) {
        let time = Self.time(try body.varint())
        let description = try body.string()
        let memory = ProcessMemory(
            virtualBytes: try body.int("virtual size"), residentBytes: try body.int("resident size"),
            allocatorBytes: try body.int("allocator bytes"))
        var snapshot = Snapshot(
            description: description, time: time, memory: memory,
            monitorBytes: try body.int("monitor bytes"), liveObjectCount: try body.int("live count"))
        try body.objectSizes(idLimit: profile.objects.count) { snapshot.append($0) }
        let count = snapshot.objectIDs.count
        snapshot.census = try body.census()
        let shortLivedCount = try body.count(of: "short-lived rows", minimumBytes: 3)
        for _ in 0..<shortLivedCount {
            snapshot.shortLived.append(
                Snapshot.ShortLived(
                    classID: try body.int(max: profile.classNames.count - 1, "class id"),
                    count: try body.int("count"),
                    totalLifetime: Self.time(try body.varint())))
        }
        if version >= 2 {
            let flags = try body.int("snapshot flags")
            snapshot.sizedObjects = flags & ProfileFormat.SnapshotFlags.sizedObjects != 0
            snapshot.isBackground = flags & ProfileFormat.SnapshotFlags.background != 0
        } else {
            // Version 1 did not say: a snapshot that sized nothing while
            // objects lived was a background one.
            snapshot.sizedObjects = count > 0 || snapshot.liveObjectCount == 0
            snapshot.isBackground = !snapshot.sizedObjects
        }
        profile.snapshots.append(snapshot)
    }

    private mutating func readLeaks(_ body: inout ByteDecoder) throws(ProfileError.Problem) {
        let time = Self.time(try body.varint())
        profile.leakScans.append(Profile.LeakScan(time: time, report: try body.leakReport()))
    }

    private static func time(_ nanoseconds: UInt64) -> Duration { .nanoseconds(Int64(clamping: nanoseconds)) }
}
