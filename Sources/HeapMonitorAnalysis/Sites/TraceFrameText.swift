/// A frame of a recorded trace, read back from the text the recorder wrote
/// (`InstantiationTrace.Frame.description`):
///
/// ```
/// App.makeSession() -> App.Session + 58 (App) at /src/App/Sessions.swift:41
/// ```
public struct TraceFrameText: Hashable, Sendable {
    /// The function, or the address when no symbol was known.
    public var function: String
    /// `file:line`, when the image had a line table.
    public var location: String?

    /// Parses `text`; a frame in another form is taken whole as its function.
    public init(_ text: String) {
        var rest = Substring(text)
        location = nil
        if let at = rest.lastRange(of: " at "), rest[at.upperBound...].contains(":") {
            location = String(rest[at.upperBound...])
            rest = rest[..<at.lowerBound]
        }
        if let image = rest.lastRange(of: " ("), rest.hasSuffix(")") {
            rest = rest[..<image.lowerBound]
        }
        if let plus = rest.lastRange(of: " + "), rest[plus.upperBound...].allSatisfy(\.isNumber) {
            rest = rest[..<plus.lowerBound]
        }
        function = String(rest)
    }

    /// The function with its location: `App.makeSession() at Sessions.swift:41`.
    public var site: String {
        location.map { "\(function) at \($0)" } ?? function
    }

    /// Frames of the allocation machinery rather than of the program: the
    /// allocating initialiser and the runtime's allocation entry points.
    var isAllocationMachinery: Bool {
        function.contains("__allocating_init") || function.hasPrefix("swift_")
            || function.hasPrefix("_swift_")
    }
}

extension Substring {
    /// The last occurrence of `needle`, or nil.
    fileprivate func lastRange(of needle: String) -> Range<Index>? {
        ranges(of: needle).last
    }
}
