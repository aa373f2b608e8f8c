/// Why the census could not count the instances alive before it started.
///
/// ```swift
/// do {
///     try Tracker.shared.countInstancesAliveBeforeCensus()
/// } catch {
///     print(error)  // "the heap walk failed: the analysis child was ended by …"
/// }
/// ```
public enum CensusError: Error, Equatable, CustomStringConvertible {
    /// The census could not start: the allocation hooks could not be installed.
    case hooks(HookError)
    /// The walk of the heap failed (in a forked child, which the program
    /// survives); the census goes on counting from its start.
    case walk(AnalysisError)

    public var description: String {
        switch self {
        case .hooks(let error): return "the census could not start: \(error)"
        case .walk(let error): return "the heap walk failed: \(error)"
        }
    }
}
