import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// Starts recording every class instance outside the standard library,
    /// so that `findLeaks()` can look at all of them. It costs what tracking
    /// a class costs, for every class: meant for debugging runs and tests.
    /// Objects allocated before are not known to the scan.
    public func startWatchingForLeaks() throws(HookError) {
        try AllocationHooks.install()
        state.withLock { state in
            state.drain()
            state.watchForLeaks(true)
        }
        startDraining()
    }

    /// Stops recording instances for leak scans and forgets them.
    public func stopWatchingForLeaks() {
        state.withLock { state in
            state.drain()
            state.watchForLeaks(false)
        }
    }

    /// Whether instances are being recorded for leak scans.
    public var isWatchingForLeaks: Bool { state.withLock { $0.watchesForLeaks } }

    /// Live instances of `type` and its subclasses among the objects watched
    /// for leaks and the tracked ones (0 for instances allocated before
    /// watching began).
    public func liveInstances(of type: AnyClass) -> Int {
        let target = Metadata(type)
        return state.withLock { state in
            state.drain()
            var isInstance: [UInt32: Bool] = [:]
            func matches(_ classIndex: UInt32, _ state: inout TrackerState) -> Bool {
                if let known = isInstance[classIndex] { return known }
                let answer = Metadata(state.classMetadata[Int(classIndex)]).ancestry.contains(target)
                isInstance[classIndex] = answer
                return answer
            }
            let watchedClasses = Array(state.watched.values)
            var count = watchedClasses.filter { matches($0, &state) }.count
            for record in state.records.liveRecords where matches(state.records.classes[record], &state) { count += 1 }
            return count
        }
    }

    /// Finds the strong reference cycles among the live watched and tracked
    /// objects that nothing outside the cycles holds any more.
    ///
    /// Call it where other threads are not changing the objects (at the end
    /// of a test, or of the program): the scan reads them without retaining
    /// them. While a profile is written, the report goes into it too. An
    /// object that is reachable from anywhere else — a variable, a
    /// global, a live object, C memory — is never reported.
    ///
    /// With the default `isolation` the scan runs in a forked child that sees
    /// the heap frozen at one instant, so it may run while other threads
    /// work (a server under load).
    ///
    /// - Throws: `AnalysisError` when the child crashed, timed out or could
    ///   not be forked; nothing is recorded then.
    public func findLeaks() throws(AnalysisError) -> LeakReport {
        try state.withLock { (state) throws(AnalysisError) -> LeakReport in
            let candidates = state.analysisCandidates()
            let report = try state.analyse(
                isolation: state.isolation,
                { LeakFinder.report(candidates: candidates, layouts: $0.layouts) },
                encode: { $0.leakReport($1) },
                decode: { (decoder) throws(ProfileError.Problem) in try decoder.leakReport() })
            state.writeLeaks(report)
            return report
        }
    }
}

/// Builds a `LeakReport` from a set of candidate objects.
enum LeakFinder {
    static func report(candidates: [UInt], layouts: LayoutBuilder? = nil) -> LeakReport {
        var engine = SizingEngine(checkingAddresses: true, layouts: layouts)
        let graph = ObjectGraph(candidates: candidates, engine: &engine)
        let scanner = LeakScanner(graph: graph)
        let garbage = scanner.garbage()
        let components = scanner.cycles(garbage: garbage)
        guard !components.isEmpty else {
            return LeakReport(cycles: [], objectsScanned: graph.candidateCount, graphNodes: graph.count)
        }
        // What garbage references but is alive belongs to someone else.
        var sizer = SizingEngine(checkingAddresses: true, layouts: engine.layouts)
        for node in 0..<graph.count where garbage[node] {
            for target in graph.edges(of: node) where !garbage[Int(target)] {
                sizer.exclude(graph.addresses[Int(target)])
            }
        }
        // The layouts built so far (warmed before a fork): a child builds none anew.
        var labeler = EdgeLabeler(engine: SizingEngine(checkingAddresses: true, layouts: sizer.layouts))
        var cycles = components.map { members in
            cycle(members, graph: graph, sizer: &sizer, labeler: &labeler)
        }
        cycles.sort { ($1.bytes, $0.objects.first?.address ?? 0) < ($0.bytes, $1.objects.first?.address ?? 0) }
        return LeakReport(cycles: cycles, objectsScanned: graph.candidateCount, graphNodes: graph.count)
    }

    private static func cycle(
        _ members: [Int], graph: ObjectGraph, sizer: inout SizingEngine,
        labeler: inout EdgeLabeler
    ) -> LeakedCycle {
        let memberSet = Set(members)
        // Instances of classes are the objects; storage, contexts and boxes
        // between them become parts of paths (unless the cycle has nothing else).
        let candidates =
            members.filter { $0 < graph.candidateCount }.isEmpty
            ? members : members.filter { $0 < graph.candidateCount }
        // Ordered by class name, then address, so that a cycle reads the same
        // from run to run (its walk starts at the first object).
        let objects = candidates.map { node in
            let object = HeapObject(UnsafeRawPointer(bitPattern: graph.addresses[node])!)
            return (
                node,
                LeakedObject(
                    typeName: sizer.displayName(of: sizer.objectLayout(object.metadata)),
                    address: graph.addresses[node], size: object.allocatedBytes)
            )
        }.sorted { ($0.1.typeName, $0.1.address) < ($1.1.typeName, $1.1.address) }
        let objectNodes = objects.map(\.0)
        let objectIndex = Dictionary(uniqueKeysWithValues: objectNodes.enumerated().map { ($1, $0) })
        var edges: [LeakedEdge] = []
        for (from, start) in objectNodes.enumerated() {
            var stack: [(node: Int, path: String)] = [(start, "")]
            var visited: Set<Int> = [start]
            while let (node, path) = stack.popLast() {
                for target in Set(graph.edges(of: node).map(Int.init)) where memberSet.contains(target) {
                    let label = labeler.label(from: graph.addresses[node], to: graph.addresses[target])
                    // An empty label is a hop inside a collection (a trie's inner node).
                    let joined =
                        path.isEmpty || label.isEmpty
                        ? path + label : (label.hasPrefix("[") ? path + label : path + "." + label)
                    if let to = objectIndex[target] {
                        edges.append(LeakedEdge(from: from, to: to, path: joined))
                    } else if visited.insert(target).inserted {
                        stack.append((target, joined))
                    }
                }
            }
        }
        // Every member reaches the others: sizing one counts the cycle once.
        let bytes = sizer.heapSize(ofObject: graph.addresses[members[0]])
        return LeakedCycle(
            objects: objects.map(\.1), edges: edges.sorted { ($0.from, $0.to, $0.path) < ($1.from, $1.to, $1.path) },
            bytes: bytes)
    }
}
