/// What a client asks a monitored process over its control socket
/// (`heapmonitor census PID` and the other live commands).
public enum ControlRequest: Hashable, Sendable {
    /// What the monitor does in the process: `ProcessStatus`.
    case status
    /// Live instances per class, the most bytes first, at most `limit`
    /// classes (0: all): `LiveCensus`.
    case census(limit: Int)
    /// A sized snapshot now: into the program's profile, or with
    /// `profilePath` into a new profile there holding only it.
    case snapshot(description: String, profilePath: String?)
    /// A leak scan: `LeakReport`.
    case leaks
    /// Tracks a class by name from now on.
    case track(className: String, resolutionLevel: Int, trace: Bool)
    /// Stops tracking new instances of a class.
    case untrack(className: String)
    /// The heap graph of the watched and tracked objects: `HeapGraph`.
    case heapGraph
}

extension ControlRequest {
    private enum Kind: UInt8 {
        case status = 1, census, snapshot, leaks, track, untrack, heapGraph
    }

    /// The request as a frame's payload.
    package func encoded() -> [UInt8] {
        var encoder = ByteEncoder()
        switch self {
        case .status:
            encoder.byte(Kind.status.rawValue)
        case .census(let limit):
            encoder.byte(Kind.census.rawValue)
            encoder.varint(limit)
        case .snapshot(let description, let path):
            encoder.byte(Kind.snapshot.rawValue)
            encoder.string(description)
            encoder.optionalString(path)
        case .leaks:
            encoder.byte(Kind.leaks.rawValue)
        case .track(let className, let level, let trace):
            encoder.byte(Kind.track.rawValue)
            encoder.string(className)
            encoder.varint(level)
            encoder.byte(trace ? 1 : 0)
        case .untrack(let className):
            encoder.byte(Kind.untrack.rawValue)
            encoder.string(className)
        case .heapGraph:
            encoder.byte(Kind.heapGraph.rawValue)
        }
        return encoder.bytes
    }

    /// Reads a frame's payload; anything but a whole request is an error.
    package init(decoding payload: [UInt8]) throws(ControlError) {
        self = try ControlFrame.decodeWhole(payload, as: "the request", Self.decode)
    }

    private static func decode(_ decoder: inout ByteDecoder) throws(ProfileError.Problem) -> ControlRequest {
        switch Kind(rawValue: try decoder.byte()) {
        case .status: return .status
        case .census: return .census(limit: try decoder.int("limit"))
        case .snapshot: return .snapshot(description: try decoder.string(), profilePath: try decoder.optionalString())
        case .leaks: return .leaks
        case .track:
            return .track(
                className: try decoder.string(), resolutionLevel: try decoder.int(max: 64, "resolution level"),
                trace: try decoder.byte() != 0)
        case .untrack: return .untrack(className: try decoder.string())
        case .heapGraph: return .heapGraph
        case nil: throw .malformed("unknown request")
        }
    }
}
