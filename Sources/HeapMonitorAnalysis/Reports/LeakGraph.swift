import HeapMonitorModel

extension LeakReport {
    /// The cycles as a graphviz graph: one cluster per shape of cycle,
    /// labelled with its count and bytes, drawing its largest cycle — a node
    /// per object (type, size), edges labelled with their field paths.
    /// `dot -Tsvg leaks.dot -o leaks.svg` draws it.
    public var dot: String {
        // Spaced nodes and padded edge labels: a two-object cycle's labels
        // otherwise run into each other.
        var lines = [
            "digraph leaks {", "  graph [nodesep=0.9];", "  node [shape=box, fontname=\"Helvetica\"];",
            "  edge [fontname=\"Helvetica\", fontsize=10];",
        ]
        for (number, group) in groups.enumerated() {
            let cycle = group.example
            lines.append("  subgraph cluster_\(number) {")
            let title = group.count == 1 ? "cycle: \(ByteCount.format(cycle.bytes))" : group.summary
            lines.append("    label=\(Self.quoted(title));")
            for (index, object) in cycle.objects.enumerated() {
                let label =
                    "\(object.typeName)\n0x\(String(object.address, radix: 16)), \(ByteCount.format(object.size))"
                lines.append("    n\(number)_\(index) [label=\(Self.quoted(label))];")
            }
            for edge in cycle.edges {
                lines.append(
                    "    n\(number)_\(edge.from) -> n\(number)_\(edge.to) [label=\(Self.quoted(" \(edge.path) "))];")
            }
            lines.append("  }")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `dot` to `path`.
    public func writeDOT(to path: String) throws(ReportError) {
        try writeFile(dot, to: path)
    }

    /// A DOT string literal: quotes and backslashes escaped, newlines as `\n`.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result + "\""
    }
}
