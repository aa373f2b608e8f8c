/// What a monitored process answers on its control socket.
public enum ControlReply: Hashable, Sendable {
    /// For `ControlRequest.status`.
    case status(ProcessStatus)
    /// For `ControlRequest.census(limit:)`.
    case census(LiveCensus)
    /// For `ControlRequest.snapshot(description:profilePath:)`.
    case snapshot(SnapshotSummary)
    /// For `ControlRequest.leaks`.
    case leaks(LeakReport)
    /// For `ControlRequest.heapGraph`.
    case heapGraph(HeapGraph)
    /// For `track` and `untrack`: what was done, in a sentence.
    case done(String)
    /// The request could not be served: why, in a sentence.
    case failure(String)
    /// The peer may not ask: why, in a sentence.
    case refused(String)
}

extension ControlReply {
    private enum Kind: UInt8 {
        case status = 1, census, snapshot, leaks, done, failure, refused, heapGraph
    }

    /// The reply as a frame's payload.
    package func encoded() -> [UInt8] {
        var encoder = ByteEncoder()
        switch self {
        case .status(let status):
            encoder.byte(Kind.status.rawValue)
            encoder.varint(Int(status.pid))
            encoder.string(status.program)
            encoder.duration(status.uptime)
            encoder.memory(status.memory)
            encoder.varint(status.trackedClasses.count)
            for tracked in status.trackedClasses {
                encoder.string(tracked.name)
                encoder.varint(tracked.resolutionLevel)
                encoder.byte((tracked.trace ? 1 : 0) | (tracked.tracksNewInstances ? 2 : 0))
            }
            encoder.varint(status.liveTrackedObjects)
            encoder.optionalString(status.profilePath)
            encoder.varint(status.profileBytes)
            encoder.varint(status.monitorBytes)
            encoder.varint(status.droppedEvents)
            encoder.byte((status.countsInstances ? 1 : 0) | (status.watchesForLeaks ? 2 : 0))
            encoder.varint(Int(status.snapshotSignal ?? 0))
            encoder.string(status.allocator)
        case .census(let census):
            encoder.byte(Kind.census.rawValue)
            encoder.duration(census.time)
            encoder.memory(census.memory)
            encoder.census(census.entries)
            encoder.varint(census.classCount)
            encoder.varint(census.liveCount)
            encoder.varint(census.liveBytes)
        case .snapshot(let snapshot):
            encoder.byte(Kind.snapshot.rawValue)
            encoder.string(snapshot.description)
            encoder.duration(snapshot.time)
            encoder.memory(snapshot.memory)
            encoder.varint(snapshot.trackedBytes)
            encoder.varint(snapshot.objectCount)
            encoder.optionalString(snapshot.profilePath)
        case .leaks(let report):
            encoder.byte(Kind.leaks.rawValue)
            encoder.leakReport(report)
        case .heapGraph(let graph):
            encoder.byte(Kind.heapGraph.rawValue)
            encoder.heapGraph(graph)
        case .done(let sentence):
            encoder.byte(Kind.done.rawValue)
            encoder.string(sentence)
        case .failure(let sentence):
            encoder.byte(Kind.failure.rawValue)
            encoder.string(sentence)
        case .refused(let sentence):
            encoder.byte(Kind.refused.rawValue)
            encoder.string(sentence)
        }
        return encoder.bytes
    }

    /// Reads a frame's payload; anything but a whole reply is an error.
    package init(decoding payload: [UInt8]) throws(ControlError) {
        self = try ControlFrame.decodeWhole(payload, as: "the reply", Self.decode)
    }

    private static func decode(_ decoder: inout ByteDecoder) throws(ProfileError.Problem) -> ControlReply {
        switch Kind(rawValue: try decoder.byte()) {
        case .status:
            let pid = Int32(try decoder.int(max: Int(Int32.max), "pid"))
            let program = try decoder.string(), uptime = try decoder.duration(), memory = try decoder.memory()
            var classes: [ProcessStatus.TrackedClass] = []
            for _ in 0..<(try decoder.count(of: "tracked classes", minimumBytes: 3)) {
                let name = try decoder.string(), level = try decoder.int("resolution level"), flags = try decoder.byte()
                classes.append(.init(name: name, resolutionLevel: level, trace: flags & 1 != 0,
                                     tracksNewInstances: flags & 2 != 0))
            }
            let live = try decoder.int("live objects"), path = try decoder.optionalString()
            let profileBytes = try decoder.int("profile bytes"), monitorBytes = try decoder.int("monitor bytes")
            let dropped = try decoder.int("dropped events"), flags = try decoder.byte()
            let signal = Int32(try decoder.int(max: 64, "signal")), allocator = try decoder.string()
            return .status(
                ProcessStatus(
                    pid: pid, program: program, uptime: uptime, memory: memory, trackedClasses: classes,
                    liveTrackedObjects: live, profilePath: path, profileBytes: profileBytes,
                    monitorBytes: monitorBytes, droppedEvents: dropped, countsInstances: flags & 1 != 0,
                    watchesForLeaks: flags & 2 != 0, snapshotSignal: signal == 0 ? nil : signal,
                    allocator: allocator))
        case .census:
            let time = try decoder.duration(), memory = try decoder.memory(), entries = try decoder.census()
            return .census(
                LiveCensus(
                    time: time, memory: memory, entries: entries, classCount: try decoder.int("class count"),
                    liveCount: try decoder.int("live count"), liveBytes: try decoder.int("live bytes")))
        case .snapshot:
            let description = try decoder.string(), time = try decoder.duration(), memory = try decoder.memory()
            return .snapshot(
                SnapshotSummary(
                    description: description, time: time, memory: memory,
                    trackedBytes: try decoder.int("tracked bytes"), objectCount: try decoder.int("object count"),
                    profilePath: try decoder.optionalString()))
        case .leaks: return .leaks(try decoder.leakReport())
        case .heapGraph: return .heapGraph(try decoder.heapGraph())
        case .done: return .done(try decoder.string())
        case .failure: return .failure(try decoder.string())
        case .refused: return .refused(try decoder.string())
        case nil: throw .malformed("unknown reply")
        }
    }
}
