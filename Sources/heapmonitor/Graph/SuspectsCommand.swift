import ArgumentParser
import HeapMonitor

/// `heapmonitor suspects FILE|PID`: what looks like a leak.
struct SuspectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspects",
        abstract: "Leak suspects: large holders, classes one holder keeps, holders that grew.",
        discussion: """
            A holder retaining at least 10 % of the graph; a class whose instances (10 or more) are \
            80 % kept by one holder; with --since, every holder that keeps more instances of a class \
            than in the earlier graph (another file, or the same file's earlier graph with --since-graph).
            """
    )

    @OptionGroup var input: GraphSource

    @Option(help: "An earlier heap graph to compare with: a profile file.")
    var since: String?

    @Option(help: "Which of the --since profile's graphs, from 1 (default: its last; without --since: this file's).")
    var sinceGraph: Int?

    func run() throws {
        let analysis = try input.analysis()
        var earlier: HeapGraphAnalysis?
        if since != nil || sinceGraph != nil {
            earlier = HeapGraphAnalysis(try GraphSource.load(since ?? input.source, graph: sinceGraph))
        }
        let suspects = analysis.suspects(since: earlier)
        try input.emit(suspects) {
            suspects.isEmpty
                ? "no suspects among \(analysis.graph.count) objects"
                : suspects.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
        }
    }
}
