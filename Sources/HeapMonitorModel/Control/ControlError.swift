/// Why a request to a monitored process failed, in one line.
///
/// ```swift
/// do { _ = try ControlClient(pid: 4242).census() } catch { print(error) }
/// // process 4242 is not monitored (no control socket: start it with --debug=control)
/// ```
public enum ControlError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No control socket for the process: it does not run the monitor's
    /// control channel.
    case notMonitored(pid: Int32)
    /// There is no such process.
    case noSuchProcess(pid: Int32)
    /// The process's socket has no listener (the process is gone, or
    /// another took its id); the stale socket was removed.
    case staleSocket(pid: Int32)
    /// The socket cannot be reached (permissions, or another user's process).
    case unreachable(String)
    /// The other side refused the peer: a process of another user.
    case refused(String)
    /// No reply in time.
    case timedOut
    /// A request or reply that is not one: garbage, or a different version.
    case malformed(String)
    /// The process answered with an error.
    case failed(String)

    package init(_ problem: ProfileError.Problem, in what: String) {
        switch problem {
        case .truncated: self = .malformed("\(what) ends early")
        case .malformed(let reason): self = .malformed("\(what): \(reason)")
        default: self = .malformed("\(what): \(problem)")
        }
    }

    public var description: String {
        switch self {
        case .notMonitored(let pid):
            "process \(pid) is not monitored (no control socket: start it with --debug=control)"
        case .noSuchProcess(let pid): "there is no process \(pid)"
        case .staleSocket(let pid): "process \(pid) does not listen on its control socket (stale: removed)"
        case .unreachable(let reason): "the control socket cannot be reached: \(reason)"
        case .refused(let reason): "refused: \(reason)"
        case .timedOut: "no reply in time (the process may be stopped or busy)"
        case .malformed(let reason): "malformed: \(reason)"
        case .failed(let reason): reason
        }
    }
}
