import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// The strong-reference graph of the live watched and tracked objects,
    /// the heap objects between them, and what holds them: globals by name,
    /// thread stacks, and references from outside the graph.
    ///
    /// Watch for leaks (`startWatchingForLeaks()`) or track classes first:
    /// the graph starts from the objects the tracker knows. With the
    /// default `isolation` it is built in a forked child that sees the heap
    /// frozen at one instant, so the host's threads go on working. While a
    /// profile is written, the graph goes into it too, for
    /// `heapmonitor retainers`, `dominators` and `suspects`.
    ///
    /// ```swift
    /// try Tracker.shared.startWatchingForLeaks()
    /// // … run …
    /// let graph = try Tracker.shared.captureHeapGraph()
    /// print(graph.count, "objects,", graph.roots.count, "roots")
    /// ```
    ///
    /// - Throws: `AnalysisError` when the child crashed, timed out or could
    ///   not be forked; nothing is recorded then.
    public func captureHeapGraph() throws(AnalysisError) -> HeapGraph {
        try state.withLock { (state) throws(AnalysisError) -> HeapGraph in
            let candidates = state.analysisCandidates()
            let ranges = RootRanges.current()
            var graph = try state.analyse(
                isolation: state.isolation,
                { HeapGraphBuilder.build(candidates: candidates, ranges: ranges, layouts: $0.layouts) },
                encode: { $0.heapGraph($1) },
                decode: { (decoder) throws(ProfileError.Problem) in try decoder.heapGraph() })
            graph.nameGlobalRoots()
            state.writeHeapGraph(graph)
            return graph
        }
    }
}

extension HeapGraph {
    /// Names each global root by the symbol its word lies in, here in the
    /// host (the symbol tables are read from the images' files), and merges
    /// the words of one symbol into one root.
    mutating func nameGlobalRoots() {
        var merged: [HeapGraph.Root] = []
        var byName: [String: Int] = [:]
        var symbol = [CChar](repeating: 0, count: 1024), image = [CChar](repeating: 0, count: 1024)
        for var root in roots {
            guard root.kind == .global else {
                merged.append(root)
                continue
            }
            var offset: UInt = 0
            let length = hm_data_symbol(root.address, &symbol, symbol.count, &offset, &image, image.count)
            root.name =
                length > 0
                ? Self.variableName(Self.string(symbol))
                : "global at 0x\(String(root.address, radix: 16)) in \(Self.fileName(Self.string(image)))"
            if let known = byName[root.name] {
                merged[known].targets.append(contentsOf: root.targets)
            } else {
                byName[root.name] = merged.count
                merged.append(root)
            }
        }
        roots = merged
    }

    /// `App.SessionStore.shared` from the demangled symbol
    /// `static App.SessionStore.shared : App.SessionStore`; a private
    /// declaration's file discriminator is left out: `App.Shelf.shared`
    /// for `App.(Shelf in _701A…).shared`.
    static func variableName(_ demangled: String) -> String {
        var name = Substring(demangled)
        if name.hasPrefix("static ") { name = name.dropFirst(7) }
        if let colon = name.firstRange(of: " : ") { name = name[..<colon.lowerBound] }
        return withoutFileDiscriminators(String(name))
    }

    private static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func fileName(_ path: String) -> String {
        path.isEmpty ? "an unknown image" : String(path.split(separator: "/").last ?? Substring(path))
    }
}
