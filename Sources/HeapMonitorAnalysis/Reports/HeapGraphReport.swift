import HeapMonitorModel

extension HeapGraphAnalysis {
    /// The text report `--debug=heapgraph` prints at the end: the leak
    /// suspects, then the objects that retain the most and what holds each.
    ///
    /// ```
    /// who holds the memory: 10,204 objects, 1.2 MiB
    /// suspects:
    ///   1. 10,000 of 10,000 Session are kept by App.SessionStore.shared → sessions[…], retaining 1.1 MiB
    /// retained most:
    ///   id  retained  %  own     type          held by
    ///    3  1.1 MiB  91  12 KiB  SessionStore  App.SessionStore.shared
    /// ```
    public func whoHoldsTheMemory(limit: Int = 10) -> String {
        let total = totalBytes
        var lines = ["who holds the memory: \(counted(graph.count, "object")), \(ByteCount.format(total))"]
        let suspects = self.suspects()
        if !suspects.isEmpty {
            lines.append("suspects:")
            for (number, suspect) in suspects.prefix(limit).enumerated() { lines.append("  \(number + 1). \(suspect)") }
        }
        let rows = dominators(limit: limit)
        if !rows.isEmpty {
            lines.append("retained most:")
            lines += dominatorTable(rows, total: total).split(separator: "\n").map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// Rows of the dominator tree as a table: id, retained bytes and share,
    /// own bytes, type and the path that holds it.
    public func dominatorTable(_ rows: [DominatorRow], total: Int) -> String {
        var table = TextTable(headers: ["id", "retained", "%", "own", "type", "held by"], numeric: [0, 1, 2, 3])
        table.rows = rows.map { row in
            [
                "\(row.node)", ByteCount.format(row.retainedBytes),
                total > 0 ? "\(row.retainedBytes * 100 / total)" : "0", ByteCount.format(row.bytes),
                shortClassName(row.typeName), row.path ?? "no root",
            ]
        }
        return table.render()
    }
}
