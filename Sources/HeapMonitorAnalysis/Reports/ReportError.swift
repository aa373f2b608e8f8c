/// A report (an HTML page, a DOT graph) could not be written.
///
/// ```swift
/// do { try report.writeDOT(to: "leaks.dot") } catch { print(error) }  // "leaks.dot: cannot be written: …"
/// ```
public struct ReportError: Error, Hashable, CustomStringConvertible {
    /// The file that could not be written.
    public var path: String
    /// Why, as the system said it (`strerror`).
    public var reason: String

    /// An error writing `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `path: cannot be written: reason`.
    public var description: String { "\(path): cannot be written: \(reason)" }
}
