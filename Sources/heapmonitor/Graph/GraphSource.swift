import ArgumentParser
import HeapMonitor

/// Where the graph commands take their heap graph from: a profile file
/// (its last graph, or the one `--graph` picks) or a running process's id.
struct GraphSource: ParsableArguments {
    @Argument(help: "A profile holding a heap graph (--debug=heapgraph), or a monitored process's id.")
    var source: String

    @Option(help: "Which of the profile's heap graphs, from 1 (default: the last).")
    var graph: Int?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// The graph analysed; a failure ends the command with its one-line
    /// error and exit code 1.
    func analysis() throws -> HeapGraphAnalysis {
        HeapGraphAnalysis(try Self.load(source, graph: graph))
    }

    /// The graph at `source`.
    static func load(_ source: String, graph choice: Int? = nil) throws -> HeapGraph {
        if let pid = Int32(source) {
            do { return try ControlClient(pid: pid).heapGraph() } catch { throw Output.failure(error) }
        }
        let profile: Profile
        do { profile = try Profile.load(from: source) } catch { throw Output.failure(error) }
        let graphs = profile.heapGraphs
        guard !graphs.isEmpty else {
            throw Output.failure(
                GraphSourceError(
                    "\(source) holds no heap graph: record one with --debug=heapgraph, "
                        + "Tracker.captureHeapGraph() or `heapmonitor retainers PID`"))
        }
        guard let choice else { return graphs[graphs.count - 1].graph }
        guard (1...graphs.count).contains(choice) else {
            let problem = "\(source) holds \(graphs.count) heap graphs; there is no graph \(choice)"
            throw Output.failure(GraphSourceError(problem))
        }
        return graphs[choice - 1].graph
    }

    /// Prints `value` as JSON, or `text()`.
    func emit<T: Encodable>(_ value: T, text: () -> String) throws {
        try Output.emit(value, asJSON: json, text: text)
    }
}

/// A graph command's input was not usable.
struct GraphSourceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
