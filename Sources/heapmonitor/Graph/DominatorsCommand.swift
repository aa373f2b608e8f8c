import ArgumentParser
import HeapMonitor

/// `heapmonitor dominators FILE|PID`: what retains the most.
struct DominatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dominators",
        abstract: "The objects that retain the most: what would be freed if each went, and the path that holds it.",
        discussion: """
            Retained sizes come from the dominator tree of the heap graph: an object retains itself and \
            everything only reachable through it. `--classes` sums them per class instead, each \
            instance counted once under the nearest instance of its class that dominates it.
            """
    )

    @OptionGroup var input: GraphSource

    @Option(help: "How many rows.")
    var limit = 20

    @Flag(help: "Per class instead of per object.")
    var classes = false

    func run() throws {
        let analysis = try input.analysis()
        let total = analysis.totalBytes
        if classes {
            let rows = Array(analysis.classes().prefix(limit))
            try input.emit(rows) {
                var table = TextTable(headers: ["retained", "own", "instances", "class"], numeric: [0, 1, 2])
                table.rows = rows.map {
                    [ByteCount.format($0.retainedBytes), ByteCount.format($0.bytes), "\($0.instances)", $0.typeName]
                }
                return table.render()
            }
            return
        }
        let rows = analysis.dominators(limit: limit)
        try input.emit(rows) {
            "\(analysis.graph.count) objects, \(ByteCount.format(total)) in the graph\n"
                + analysis.dominatorTable(rows, total: total)
        }
    }
}
