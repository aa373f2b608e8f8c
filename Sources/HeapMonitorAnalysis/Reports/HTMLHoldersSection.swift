import HeapMonitorModel

extension HTMLReport {
    /// Rows of the dominator and class tables.
    static let holderRowLimit = 25

    /// "Who holds the memory", from the profile's last heap graph: the leak
    /// suspects (growth since the graph before, when there is one), the
    /// objects that retain the most with the path that holds each, and the
    /// classes by what their instances retain.
    func holdersSection() -> String? {
        guard let last = profile.heapGraphs.last else { return nil }
        let analysis = HeapGraphAnalysis(last.graph)
        let earlier = profile.heapGraphs.dropLast().last.map { HeapGraphAnalysis($0.graph) }
        let total = analysis.totalBytes
        var parts = [
            "<p>The heap graph at \(StatsReport.seconds(last.time)) s: "
                + "\(last.graph.count) objects, \(ByteCount.format(total)), "
                + "\(last.graph.roots.count) roots"
                + (earlier != nil ? ", compared with the graph before it" : "") + ".</p>"
        ]
        let suspects = analysis.suspects(since: earlier)
        if suspects.isEmpty {
            parts.append("<p>No leak suspects.</p>")
        } else {
            parts.append("<h3>Suspects</h3>")
            parts.append(
                "<ol class=\"suspects\">"
                    + suspects.prefix(Self.holderRowLimit).map { "<li>\(HTML.escape($0.description))</li>" }
                    .joined() + "</ol>")
        }
        parts.append("<h3>Retained most</h3>")
        parts.append(
            HTML.table(
                ["id", "retained", "%", "own", "type", "held by"], numeric: [0, 1, 2, 3],
                analysis.dominators(limit: Self.holderRowLimit).map { row in
                    [
                        "\(row.node)", ByteCount.format(row.retainedBytes),
                        total > 0 ? "\(row.retainedBytes * 100 / total)" : "0",
                        ByteCount.format(row.bytes), HTML.escape(shortClassName(row.typeName)),
                        "<code>\(HTML.escape(row.path ?? "no root"))</code>",
                    ]
                }))
        parts.append("<h3>Classes by retained size</h3>")
        parts.append(
            HTML.table(
                ["class", "instances", "own", "retained"], numeric: [1, 2, 3],
                analysis.classes().prefix(Self.holderRowLimit).map { row in
                    [
                        HTML.escape(row.typeName), "\(row.instances)", ByteCount.format(row.bytes),
                        ByteCount.format(row.retainedBytes),
                    ]
                }))
        return parts.joined(separator: "\n")
    }
}
