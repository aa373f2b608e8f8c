import HeapMonitorModel

/// Renders a `SizedNode` tree as aligned text, largest referents first.
public struct TreeReport {
    /// Referents shown per node; the rest are summarised in one line.
    public var referentLimit: Int
    /// Levels shown below the root.
    public var depthLimit: Int

    /// Creates a report showing at most `referentLimit` referents per node and
    /// `depthLimit` levels.
    public init(referentLimit: Int = 10, depthLimit: Int = .max) {
        self.referentLimit = max(1, referentLimit)
        self.depthLimit = max(0, depthLimit)
    }

    /// The tree as lines of text: name, type, size, and the flat size where it
    /// differs from the size.
    public func render(_ root: SizedNode) -> String {
        var rows: [(label: String, size: String, flat: String)] = []
        collect(root, prefix: "", childPrefix: "", depth: 0, into: &rows)
        let labelWidth = rows.map(\.label.count).max() ?? 0
        let sizeWidth = rows.map(\.size.count).max() ?? 0
        return rows.map { row in
            let padding = String(repeating: " ", count: labelWidth - row.label.count + 2)
            let sizePadding = String(repeating: " ", count: sizeWidth - row.size.count)
            let line = row.label + padding + sizePadding + row.size + (row.flat.isEmpty ? "" : "  " + row.flat)
            return line
        }.joined(separator: "\n")
    }

    private func collect(
        _ node: SizedNode, prefix: String, childPrefix: String, depth: Int,
        into rows: inout [(label: String, size: String, flat: String)]
    ) {
        let opaque = node.isOpaque ? " [not introspectable: sized flat]" : ""
        rows.append(
            (
                prefix + node.name + ": " + Self.shortTypeName(node.typeName) + opaque,
                ByteCount.format(node.size),
                node.flatSize != node.size ? "flat " + ByteCount.format(node.flatSize) : ""
            ))
        guard depth < depthLimit else { return }
        // Largest first; equal sizes keep their order ([0] before [1]).
        let referents = node.referents.enumerated()
            .sortedLargestFirst(by: \.element.size, thenBy: \.offset)
            .map(\.element)
        let shown = referents.prefix(referentLimit)
        let hidden = referents.dropFirst(referentLimit)
        for (index, referent) in shown.enumerated() {
            let isLast = index == shown.count - 1 && hidden.isEmpty
            collect(
                referent, prefix: childPrefix + (isLast ? "└─ " : "├─ "),
                childPrefix: childPrefix + (isLast ? "   " : "│  "), depth: depth + 1, into: &rows)
        }
        if !hidden.isEmpty {
            let bytes = hidden.reduce(0) { $0 + $1.size }
            rows.append((childPrefix + "└─ … \(hidden.count) more referents", ByteCount.format(bytes), ""))
        }
    }

    /// Drops the `Swift.` module prefix, which adds length and no information.
    static func shortTypeName(_ name: String) -> String {
        name.replacing("Swift.", with: "")
    }
}
