import HeapMonitorModel

/// Something in a heap graph that looks like the reason memory grows, as
/// Eclipse MAT's leak suspects report does.
public struct LeakSuspect: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Why it is suspected.
    public enum Kind: String, Hashable, Sendable, Codable {
        /// One holder retains at least a tenth of the graph's bytes.
        case largeHolder
        /// Most instances of a class are kept by one holder.
        case concentratedClass
        /// A holder keeps more of a class than in the earlier graph.
        case growingHolder
    }

    /// Why it is suspected.
    public var kind: Kind
    /// The class concerned (the holder's, for `largeHolder`).
    public var typeName: String
    /// The path from a root to the holder, or the instances' grouped path.
    public var path: String
    /// Instances concerned (1 for a large holder).
    public var count: Int
    /// Of how many (the graph's bytes for a large holder; the instances of
    /// the class; the count in the earlier graph for growth).
    public var outOf: Int
    /// Bytes retained.
    public var bytes: Int

    /// One line, for terminals.
    public var description: String {
        let name = shortClassName(typeName)
        switch kind {
        case .largeHolder:
            let share = outOf > 0 ? bytes * 100 / outOf : 0
            return "\(name) retains \(ByteCount.format(bytes)) (\(share) % of the graph), held by \(path)"
        case .concentratedClass:
            return "\(count) of \(outOf) \(name) are kept by \(path), retaining \(ByteCount.format(bytes))"
        case .growingHolder:
            let grown = StatsReport.signedBytes(bytes)
            return "\(path) keeps \(count) \(name), \(count - outOf) more than before (\(grown) retained)"
        }
    }
}

extension HeapGraphAnalysis {
    /// A holder is large from this share of the graph's bytes.
    public static let largeHolderShare = 10
    /// A class is concentrated when this share of its instances (and at
    /// least `concentratedMinimum` of them) have one holder.
    public static let concentratedShare = 80
    public static let concentratedMinimum = 10

    /// Leak suspects, the most bytes first: large holders, classes whose
    /// instances one holder keeps, and — given the graph of an earlier
    /// instant — holders that keep more instances than they did.
    public func suspects(since earlier: HeapGraphAnalysis? = nil) -> [LeakSuspect] {
        var found = largeHolders() + concentratedClasses()
        if let earlier { found += growingHolders(since: earlier) }
        return found.sorted { ($1.bytes, $0.description) < ($0.bytes, $1.description) }
    }

    /// Objects, and containers held straight from a root, retaining at
    /// least `largeHolderShare` % of the bytes that no larger one of them
    /// dominates.
    private func largeHolders() -> [LeakSuspect] {
        let total = totalBytes
        guard total > 0 else { return [] }
        let threshold = total * Self.largeHolderShare / 100
        func isCandidate(_ node: Int) -> Bool {
            tree.isReachable(node) && tree.retainedBytes(of: node) >= threshold
                && (isObject(node) || tree.immediateDominator(of: node) == tree.virtualRoot)
        }
        return (0..<graph.count).filter(isCandidate).filter { node in
            var current = tree.immediateDominator(of: node)
            while let next = current, next != tree.virtualRoot {
                if isCandidate(next) { return false }
                current = tree.immediateDominator(of: next)
            }
            return true
        }.map { node in
            LeakSuspect(
                kind: .largeHolder, typeName: graph.typeName(of: node), path: path(to: node) ?? "?",
                count: 1, outOf: total, bytes: tree.retainedBytes(of: node))
        }
    }

    private func concentratedClasses() -> [LeakSuspect] {
        var byClass: [Int32: [Int]] = [:]
        for node in 0..<graph.watchedCount where tree.isReachable(node) {
            byClass[graph.nodeTypes[node], default: []].append(node)
        }
        var found: [LeakSuspect] = []
        for (type, instances) in byClass where instances.count >= Self.concentratedMinimum {
            var byHolder: [Int: [Int]] = [:]
            for node in instances { byHolder[holder(of: node) ?? -1, default: []].append(node) }
            guard let (holder, kept) = byHolder.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }),
                holder >= 0, kept.count * 100 >= instances.count * Self.concentratedShare
            else { continue }
            let keptBy = path(to: kept[0], grouped: true) ?? shortClassName(graph.typeName(of: holder))
            found.append(
                LeakSuspect(
                    kind: .concentratedClass, typeName: graph.typeNames[Int(type)], path: keptBy,
                    count: kept.count, outOf: instances.count,
                    bytes: kept.reduce(0) { $0 + tree.retainedBytes(of: $1) }))
        }
        return found
    }

    private func growingHolders(since earlier: HeapGraphAnalysis) -> [LeakSuspect] {
        let before = Dictionary(earlier.holderCounts().map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        return holderCounts().compactMap { key, now in
            let then = before[key]?.count ?? 0
            guard now.count > then else { return nil }
            return LeakSuspect(
                kind: .growingHolder, typeName: key.typeName, path: key.path, count: now.count, outOf: then,
                bytes: now.bytes - (before[key]?.bytes ?? 0))
        }
    }

    /// What holds what: for each class and grouped path, the instances
    /// and the bytes they retain.
    public func holderCounts() -> [HolderKey: (count: Int, bytes: Int)] {
        var counts: [HolderKey: (count: Int, bytes: Int)] = [:]
        for node in 0..<graph.watchedCount {
            guard let path = path(to: node, grouped: true) else { continue }
            let key = HolderKey(typeName: graph.typeName(of: node), path: path)
            counts[key, default: (0, 0)].count += 1
            counts[key]!.bytes += tree.retainedBytes(of: node)
        }
        return counts
    }

    /// A class and the grouped path that keeps its instances.
    public struct HolderKey: Hashable, Sendable {
        /// The class.
        public var typeName: String
        /// The grouped path.
        public var path: String
    }
}
