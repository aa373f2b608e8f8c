import ArgumentParser
import HeapMonitor

/// `heapmonitor retainers FILE|PID --class NAME | --id N`: who holds objects.
struct RetainersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retainers",
        abstract: "Who holds a class's instances, or one object: the paths from the roots that keep them.",
        discussion: """
            With --class, the instances are grouped by the shortest path from a root that keeps them \
            (element and key labels as […]), the most instances first. With --id, one object's path, \
            step by step, with what it retains. Roots are globals by name, thread stacks (conservative) \
            and references from outside the graph.
            """
    )

    @OptionGroup var input: GraphSource

    @Option(name: .customLong("class"), help: "A class name, with or without its module.")
    var className: String?

    @Option(help: "A node number (from `heapmonitor dominators`).")
    var id: Int?

    func validate() throws {
        guard (className == nil) != (id == nil) else { throw ValidationError("give --class NAME or --id N") }
    }

    func run() throws {
        let analysis = try input.analysis()
        if let className {
            let groups = analysis.retainers(ofClass: className)
            guard !groups.isEmpty else {
                throw Output.failure(GraphSourceError("no instance of \(className) in the graph"))
            }
            try input.emit(groups) { Self.text(groups, className: className) }
        } else if let id {
            guard id >= 0, id < analysis.graph.count else {
                throw Output.failure(GraphSourceError("no node \(id): the graph has \(analysis.graph.count)"))
            }
            let path = RetainerPath(
                object: analysis.row(id), steps: analysis.steps(to: id),
                weakReferrers: analysis.weakReferrers(of: id))
            try input.emit(path) { Self.text(path) }
        }
    }

    private static func text(_ groups: [RetainerGroup], className: String) -> String {
        let total = groups.reduce(0) { $0 + $1.count }
        return groups.map { group in
            "\(group.count) of \(total) \(className) (retaining \(ByteCount.format(group.bytes))) "
                + "kept by \(group.path)"
        }.joined(separator: "\n")
    }

    private static func text(_ path: RetainerPath) -> String {
        let object = path.object, steps = path.steps
        var lines = [
            "\(object.typeName) #\(object.node) at 0x\(String(object.address, radix: 16)): "
                + "\(ByteCount.format(object.bytes)), retains \(ByteCount.format(object.retainedBytes))"
        ]
        if steps.isEmpty { lines.append("  held by no root") }
        for step in steps {
            lines.append("  \(step.label.isEmpty ? "" : step.label + " ")→ \(step.typeName) #\(step.node)")
        }
        let weak = path.weakReferrers
        if !weak.isEmpty {
            let listed = weak.prefix(3).map { "\(shortClassName($0.typeName)) #\($0.node).\($0.label)" }
            let more = weak.count > 3 ? " and \(weak.count - 3) more" : ""
            lines.append("  weakly referenced (holding nothing) by " + listed.joined(separator: ", ") + more)
        }
        return lines.joined(separator: "\n")
    }
}

/// One object's path from a root, for `retainers --id`.
struct RetainerPath: Encodable {
    let object: DominatorRow
    let steps: [Step]
    let weakReferrers: [Step]
    typealias Step = HeapGraphAnalysis.PathStep
}
