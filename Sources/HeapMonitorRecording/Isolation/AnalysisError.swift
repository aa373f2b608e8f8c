#if canImport(Glibc)
import Glibc
#endif

/// Why a snapshot that sizes objects, or a leak scan, has no result. The
/// program itself is unharmed: the analysis ran in a forked child.
///
/// ```swift
/// do {
///     let report = try Tracker.shared.findLeaks()
///     print(report)
/// } catch {
///     print("no leak report: \(error)")   // e.g. "... timed out after 60 s"
/// }
/// ```
public enum AnalysisError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `fork` failed (`errno`): too many processes, no memory for the page
    /// tables, or a sandbox that forbids it. `Tracker.isolation = .inProcess`
    /// analyses in the process instead, where nothing else runs.
    case forkRefused(errno: Int32)
    /// The child was ended by `signal` (a fault while reading the frozen heap,
    /// or a kill from outside).
    case childCrashed(signal: Int32)
    /// The child exited with `status` before sending a whole result.
    case childFailed(status: Int32)
    /// The child did not finish within the isolation's time-out and was
    /// killed (a very large heap, or a child that never slept yet never
    /// ended).
    case timedOut(after: Duration)
    /// The child fell asleep: it waited for a lock another thread held at
    /// the instant of the fork, which nothing would ever release. It was
    /// killed at once; the tracker forks again a few times before it gives
    /// this up.
    case childBlocked
    /// What the child sent could not be read.
    case malformedResult(String)

    public var description: String {
        switch self {
        case .forkRefused(let code):
            return "the analysis could not fork: \(String(cString: strerror(code)))"
        case .childCrashed(let signal):
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            return "the analysis child was ended by signal \(signal) (\(name)); the program goes on"
        case .childFailed(let status):
            return "the analysis child exited with status \(status) before it sent its result"
        case .timedOut(let limit):
            return "the analysis child timed out after \(limit) and was killed"
        case .childBlocked:
            return "the analysis child waited for a lock held when it was forked, and was killed"
        case .malformedResult(let problem):
            return "the analysis child's result could not be read: \(problem)"
        }
    }
}
