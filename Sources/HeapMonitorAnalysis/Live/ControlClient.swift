#if canImport(Glibc)
import Glibc
#endif
import HeapMonitorModel

/// Asks a monitored process (one that called
/// `Tracker.startControlChannel()`, or runs with `--debug=control`) over its
/// control socket. Every call connects, sends one request and reads one
/// reply within `timeout`: a process that is gone, a stale socket, a peer
/// that refuses or a reply that is not one is a `ControlError`, never a hang.
///
/// ```swift
/// let census = try ControlClient(pid: 4242).census(limit: 10)
/// for entry in census.entries { print(entry.className, entry.liveBytes) }
/// ```
public struct ControlClient: Sendable {
    /// The process asked.
    public let pid: Int32
    /// Its socket.
    public let socketPath: String
    /// How long a reply to a quick request (status, census, track) may take.
    public var timeout: Duration = .seconds(5)
    /// How long a snapshot or a leak scan may take (they fork and size).
    public var analysisTimeout: Duration = .seconds(120)

    /// A client of process `pid`, whose socket is in `directory`.
    public init(pid: Int32, directory: String = ControlSocket.directory()) {
        self.pid = pid
        socketPath = ControlSocket.path(forProcess: pid, in: directory)
    }

    /// What the monitor does in the process.
    public func status() throws(ControlError) -> ProcessStatus {
        guard case .status(let status) = try send(.status) else { throw unexpected }
        return status
    }

    /// Live instances per class, the most bytes first; at most `limit`
    /// classes (0: all).
    public func census(limit: Int = 0) throws(ControlError) -> LiveCensus {
        guard case .census(let census) = try send(.census(limit: limit)) else { throw unexpected }
        return census
    }

    /// A sized snapshot now: into the process's profile, or with
    /// `profilePath` (absolute) into a new profile there holding only it.
    public func snapshot(named description: String, intoNewProfileAt profilePath: String? = nil)
        throws(ControlError) -> SnapshotSummary
    {
        let request = ControlRequest.snapshot(description: description, profilePath: profilePath)
        guard case .snapshot(let summary) = try send(request) else { throw unexpected }
        return summary
    }

    /// A leak scan of the process's tracked and watched objects.
    public func leaks() throws(ControlError) -> LeakReport {
        guard case .leaks(let report) = try send(.leaks) else { throw unexpected }
        return report
    }

    /// The heap graph of the process's tracked and watched objects, built
    /// in a forked child of the process.
    public func heapGraph() throws(ControlError) -> HeapGraph {
        guard case .heapGraph(let graph) = try send(.heapGraph) else { throw unexpected }
        return graph
    }

    /// Tracks the class named `className` from now on; what was done.
    public func track(className: String, resolutionLevel: Int = 0, trace: Bool = false) throws(ControlError)
        -> String
    {
        let request = ControlRequest.track(className: className, resolutionLevel: resolutionLevel, trace: trace)
        guard case .done(let sentence) = try send(request) else { throw unexpected }
        return sentence
    }

    /// Stops tracking new instances of the class named `className`.
    public func untrack(className: String) throws(ControlError) -> String {
        guard case .done(let sentence) = try send(.untrack(className: className)) else { throw unexpected }
        return sentence
    }

    /// Sends `request`, returns the reply; a failure reply is thrown.
    public func send(_ request: ControlRequest) throws(ControlError) -> ControlReply {
        let limit: Duration
        switch request {
        case .snapshot, .leaks: limit = analysisTimeout
        default: limit = timeout
        }
        let fd = try connect(timeout: limit)
        defer { close(fd) }
        try ControlFrame.write(ControlFrame.frame(request.encoded()), to: fd)
        let payload = try ControlFrame.read(limit: ControlFrame.replyLimit) { (count) throws(ControlError) in
            try ControlFrame.receive(count, from: fd)
        }
        let reply = try ControlReply(decoding: payload)
        switch reply {
        case .failure(let reason): throw .failed(reason)
        case .refused(let reason): throw .refused(reason)
        default: return reply
        }
    }

    /// The processes with a control socket in `directory` that listen;
    /// stale sockets found on the way are removed.
    public static func monitoredProcesses(in directory: String = ControlSocket.directory()) -> [Int32] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var pids: [Int32] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = ControlSocket.processID(ofSocketNamed: name) else { continue }
            do {
                close(try ControlClient(pid: pid, directory: directory).connect(timeout: .seconds(1)))
                pids.append(pid)
            } catch {
                continue
            }
        }
        return pids.sorted()
    }

    private var unexpected: ControlError { .malformed("a reply to another request") }

    private func connect(timeout: Duration) throws(ControlError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .unreachable("\(socketPath): the path is too long for a socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(Self.describe(errno)) }
        ControlFrame.setTimeout(timeout, on: fd)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw failure(connecting: error)
        }
        return fd
    }

    /// What a failed connect(2) means for this process.
    private func failure(connecting error: Int32) -> ControlError {
        let alive = kill(pid, 0) == 0 || errno == EPERM
        switch error {
        case ENOENT: return alive ? .notMonitored(pid: pid) : .noSuchProcess(pid: pid)
        case ECONNREFUSED:
            unlink(socketPath)
            return .staleSocket(pid: pid)
        case EAGAIN, ETIMEDOUT: return .timedOut
        default: return .unreachable("\(socketPath): \(Self.describe(error))")
        }
    }

    private static func describe(_ error: Int32) -> String { String(cString: strerror(error)) }
}
