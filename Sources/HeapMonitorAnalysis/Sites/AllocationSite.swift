import HeapMonitorModel

/// Live objects of one traced class made at one place in the program: the
/// first frame of their instantiation traces past the allocation machinery.
///
/// ```swift
/// let profile = try Profile.load(from: "app.hmprof")
/// for site in profile.allocationSites(at: profile.snapshots.count - 1).prefix(5) {
///     print(site.count, site.className, "from", site.site)
/// }
/// ```
public struct AllocationSite: Hashable, Sendable, Codable {
    /// The function and `file:line` that made them.
    public var site: String
    /// Their class.
    public var className: String
    /// Live instances at the snapshot.
    public var count: Int
    /// Their sized bytes.
    public var bytes: Int
    /// Instances and bytes at the earlier snapshot, when one is compared.
    public var countBefore = 0
    public var bytesBefore = 0
}

extension Profile {
    /// The sites where the traced objects live at `snapshot` were made, the
    /// most bytes first — or, given an earlier snapshot, the most growth
    /// in bytes since it first.
    public func allocationSites(at snapshot: Int, since earlier: Int? = nil) -> [AllocationSite] {
        var sites: [SiteKey: AllocationSite] = [:]
        let traceSites = self.traceSites()
        forEachTracedObject(at: snapshot, sites: traceSites) { key, bytes in
            sites[key, default: AllocationSite(site: key.site, className: key.className, count: 0, bytes: 0)]
                .count += 1
            sites[key]!.bytes += bytes
        }
        if let earlier {
            forEachTracedObject(at: earlier, sites: traceSites) { key, bytes in
                sites[key, default: AllocationSite(site: key.site, className: key.className, count: 0, bytes: 0)]
                    .countBefore += 1
                sites[key]!.bytesBefore += bytes
            }
        }
        let growth = earlier != nil
        return sites.values.sorted {
            let (left, right) = growth ? ($0.bytes - $0.bytesBefore, $1.bytes - $1.bytesBefore) : ($0.bytes, $1.bytes)
            return (right, $0.site, $0.className) < (left, $1.site, $1.className)
        }
    }

    /// The live bytes of traced objects at `snapshot` by call stack, in the
    /// folded format of `flamegraph.pl` and speedscope: one line a stack,
    /// outermost frame first, frames by function, then the bytes.
    ///
    /// ```
    /// main;App.serve();App.makeSession() 48000
    /// ```
    public func foldedStacks(at snapshot: Int) -> String {
        var bytesByStack: [String: Int] = [:]
        let frames = traces.map { trace in
            trace.reversed().map { TraceFrameText($0).function.replacing(";", with: ":") }.joined(separator: ";")
        }
        let taken = snapshots[snapshot]
        for (position, id) in taken.objectIDs.enumerated() {
            guard let trace = objects[Int(id)].traceID, trace < frames.count else { continue }
            bytesByStack[frames[trace], default: 0] += taken.sizes[position]
        }
        return bytesByStack.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
    }

    private struct SiteKey: Hashable {
        var site: String
        var className: String
    }

    /// Each trace's site, by trace id.
    private func traceSites() -> [String] {
        traces.map { trace in
            let frames = trace.map(TraceFrameText.init)
            return (frames.first { !$0.isAllocationMachinery } ?? frames.first)?.site ?? "?"
        }
    }

    private func forEachTracedObject(at snapshot: Int, sites: [String], _ body: (SiteKey, Int) -> Void) {
        let taken = snapshots[snapshot]
        for (position, id) in taken.objectIDs.enumerated() {
            let object = objects[Int(id)]
            guard let trace = object.traceID, trace < sites.count else { continue }
            body(SiteKey(site: sites[trace], className: classNames[object.classID]), taken.sizes[position])
        }
    }
}

extension AllocationSite {
    /// Sites as a table: instances, bytes (and their growth when compared),
    /// class and site.
    public static func table(_ sites: some Collection<AllocationSite>, compared: Bool) -> String {
        var headers = ["objects", "bytes"]
        if compared { headers += ["+objects", "+bytes"] }
        var table = TextTable(headers: headers + ["class", "site"], numeric: Set(0..<(compared ? 4 : 2)))
        table.rows = sites.map { site in
            var row = ["\(site.count)", ByteCount.format(site.bytes)]
            if compared {
                row += [
                    StatsReport.signed(site.count - site.countBefore),
                    StatsReport.signedBytes(site.bytes - site.bytesBefore),
                ]
            }
            return row + [shortClassName(site.className), site.site]
        }
        return table.render()
    }
}
