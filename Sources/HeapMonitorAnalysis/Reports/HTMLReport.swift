import HeapMonitorModel

/// A profile as one self-contained HTML page: inline SVG charts and CSS, no
/// script, nothing fetched — it opens from `file://`.
///
/// The index shows memory over time (stacked areas per class, the largest
/// first and the rest folded into "other", lines for the tracked total and
/// the RSS), a table per snapshot, a table per class and the distribution at
/// the largest snapshot; then census, who holds the memory (from the last
/// heap graph), leaked cycles, and a section per class: instances over
/// time, sizes per snapshot, the referents that hold the memory, and each
/// instance (at most `instanceLimit` per class, the largest, with totals).
public struct HTMLReport {
    /// The profile reported.
    public var profile: Profile
    /// Instances listed per class (the largest ones).
    public var instanceLimit: Int
    /// Classes drawn separately in the chart; the rest are "other".
    public var chartClasses: Int

    /// A report of `profile`.
    public init(profile: Profile, instanceLimit: Int = 100, chartClasses: Int = 8) {
        self.profile = profile
        self.instanceLimit = max(1, instanceLimit)
        self.chartClasses = max(1, chartClasses)
    }

    /// The page.
    public func render() -> String {
        let stats = MemStats(profiles: [profile])
        let totals = ProfileTotals(profile)
        let perClass = totals.perClass, sized = totals.sizedSnapshots
        var body: [String] = []
        body.append("<h1>HeapMonitor report</h1>")
        body.append(
            "<p class=\"meta\">\(HTML.escape(profile.path)) — \(profile.snapshots.count) snapshots, "
                + "\(profile.objects.count) tracked objects, \(profile.classNames.count) classes"
                + (profile.isComplete
                    ? "" : " — <strong>the profile was not closed; read up to its last complete record</strong>")
                + "</p>")
        body.append(nav(totals))
        body.append("<h2 id=\"memory\">Memory over time</h2>")
        body.append(profile.snapshots.isEmpty ? "<p>No snapshots.</p>" : memoryChart(totals))
        if let peaks = StatsReport.memoryPeaks(profile) { body.append("<p>\(HTML.escape(peaks)).</p>") }
        body.append("<h2 id=\"snapshots\">Snapshots</h2>")
        body.append(snapshotTable())
        body.append("<h2 id=\"classes\">Classes</h2>")
        body.append(
            perClass.isEmpty
                ? "<p>No objects were tracked: this profile records process memory only.</p>" : classTable(totals))
        if let peak = totals.peakSnapshot {
            body.append("<h2 id=\"distribution\">Distribution at the largest snapshot</h2>")
            let total = max(1, profile.snapshots[peak].trackedBytes)
            let rows = perClass.sortedLargestFirst(by: { $0.value[peak] }, thenBy: \.key).prefix(15).map {
                (
                    label: shortClassName(profile.classNames[$0.key]), value: $0.value[peak],
                    share: Double($0.value[peak]) / Double(total)
                )
            }
            body.append(
                SVGChart.bars(
                    title:
                        "\"\(profile.snapshots[peak].description)\" "
                            + "at \(StatsReport.seconds(profile.snapshots[peak].time)) s: "
                        + "\(ByteCount.format(profile.snapshots[peak].trackedBytes)) tracked",
                    rows.filter { $0.value > 0 }))
        }
        if let census = profile.snapshots.last(where: { !$0.census.isEmpty }) {
            body.append("<h2 id=\"census\">Census</h2>")
            body.append(censusTable(census))
        }
        if let holders = holdersSection() {
            body.append("<h2 id=\"holders\">Who holds the memory</h2>")
            body.append(holders)
        }
        if !profile.leakScans.isEmpty {
            body.append("<h2 id=\"garbage\">Leaked reference cycles</h2>")
            body.append(garbageSection())
        }
        for classID in totals.classesByLargestTotal {
            body.append(classSection(classID, stats: stats, sized: sized))
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>HeapMonitor — \(HTML.escape(profile.path))</title>
            <style>\(Self.style)</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>
            """
    }

    /// Writes the page to `path`.
    public func write(to path: String) throws(ReportError) {
        try writeFile(render(), to: path)
    }

    /// Snapshots are listed one per row up to this many; beyond it the
    /// background ones are left to the chart and `heapmonitor memory`.
    static let snapshotRowLimit = 40

    /// Snapshots shown as columns of a class's referent table at most.
    static let referentColumnLimit = 8

    /// At most `limit` of `count` positions, evenly spread, the first and the
    /// last always among them.
    static func spread(_ count: Int, limit: Int) -> [Int] {
        guard count > limit, limit >= 2 else { return Array(0..<count) }
        return (0..<limit).map { Int((Double($0) * Double(count - 1) / Double(limit - 1)).rounded()) }
    }

    private static func spreadNote(_ shown: Int, of count: Int) -> String {
        shown < count
            ? "<p>\(shown) of \(count) snapshots are shown, evenly spread from the first to the last.</p>" : ""
    }

    // MARK: Index

    private func nav(_ totals: ProfileTotals) -> String {
        "<nav><a href=\"#memory\">Memory</a> · <a href=\"#snapshots\">Snapshots</a> · "
            + "<a href=\"#classes\">Classes</a>"
            + (totals.peakSnapshot != nil ? " · <a href=\"#distribution\">Distribution</a>" : "")
            + (profile.snapshots.contains { !$0.census.isEmpty } ? " · <a href=\"#census\">Census</a>" : "")
            + (profile.heapGraphs.isEmpty ? "" : " · <a href=\"#holders\">Holders</a>")
            + (profile.leakScans.isEmpty ? "" : " · <a href=\"#garbage\">Garbage</a>") + "</nav>"
    }

    /// Stacked areas over the snapshots that sized objects; the RSS line
    /// over every snapshot (background ones record memory only).
    private func memoryChart(_ totals: ProfileTotals) -> String {
        let perClass = totals.perClass, sized = totals.sizedSnapshots
        let peak = totals.peakSnapshot ?? 0
        let sizedX = sized.map { profile.snapshots[$0].time.inSeconds }
        let ordered = perClass.keys.sortedLargestFirst(by: { perClass[$0]![peak] }, thenBy: { $0 })
        let shown = Array(ordered.prefix(chartClasses))
        var series = shown.map { classID in
            SVGChart.Series(
                name: shortClassName(profile.classNames[classID]),
                values: sized.map { Double(perClass[classID]![$0]) }, isLine: false, xValues: sizedX)
        }
        let rest = ordered.dropFirst(chartClasses)
        if !rest.isEmpty {
            let other = sized.map { index in rest.reduce(0.0) { $0 + Double(perClass[$1]![index]) } }
            series.append(
                SVGChart.Series(name: "other (\(rest.count) classes)", values: other, isLine: false, xValues: sizedX))
        }
        if !perClass.isEmpty {
            series.append(
                SVGChart.Series(
                    name: "tracked total", values: sized.map { Double(profile.snapshots[$0].trackedBytes) },
                    isLine: true, xValues: sizedX))
        }
        series.append(
            SVGChart.Series(
                name: "process RSS", values: profile.snapshots.map { Double($0.memory.residentBytes) }, isLine: true))
        series.append(
            SVGChart.Series(
                name: "allocator in use", values: profile.snapshots.map { Double($0.memory.allocatorBytes) },
                isLine: true))
        let title =
            perClass.isEmpty
            ? "Resident set and allocator in use" : "Bytes by class, tracked total, resident set and allocator in use"
        var chart = SVGChart(
            title: title, xValues: profile.snapshots.map(\.time.inSeconds),
            xUnit: "time (s)", series: series, yIsBytes: true)
        // Among background snapshots, the program's own are marked with
        // their number in the snapshot table.
        if profile.snapshots.contains(where: \.isBackground) {
            chart.markers = profile.snapshots.indices.filter { !profile.snapshots[$0].isBackground }.map { index in
                let snapshot = profile.snapshots[index]
                return (snapshot.time.inSeconds, "\(index)", "#\(index) \(snapshot.description)")
            }
        }
        return chart.render()
    }

    private func snapshotTable() -> String {
        let listed = profile.snapshots.indices.filter {
            profile.snapshots.count <= Self.snapshotRowLimit || !profile.snapshots[$0].isBackground
        }
        let rows = listed.map { index in
            let snapshot = profile.snapshots[index]
            return [
                "\(index)", StatsReport.seconds(snapshot.time), HTML.escape(snapshot.description),
                ByteCount.format(snapshot.memory.virtualBytes), ByteCount.format(snapshot.memory.residentBytes),
                ByteCount.format(snapshot.memory.allocatorBytes), ByteCount.format(snapshot.trackedBytes),
                "\(snapshot.liveObjectCount)", ByteCount.format(snapshot.monitorBytes),
            ]
        }
        let omitted = profile.snapshots.count - listed.count
        return HTML.table(
            ["#", "time s", "description", "virtual", "RSS", "allocator in use", "tracked", "objects", "monitor"],
            numeric: [0, 1, 3, 4, 5, 6, 7, 8], rows)
            + (omitted > 0
                ? "<p>\(omitted) background snapshots are drawn in the chart above and not listed; "
                    + "<code>heapmonitor memory FILE</code> lists them.</p>" : "")
    }

    private func classTable(_ totals: ProfileTotals) -> String {
        let perClass = totals.perClass
        let peak = totals.peakSnapshot
        let total = peak.map { max(1, profile.snapshots[$0].trackedBytes) } ?? 1
        var instances: [Int: (count: Int, atPeak: Int)] = [:]
        for object in profile.objects { instances[object.classID, default: (0, 0)].count += 1 }
        if let peak {
            for id in profile.snapshots[peak].objectIDs {
                instances[profile.objects[Int(id)].classID, default: (0, 0)].atPeak += 1
            }
        }
        let rows = totals.classesByLargestTotal.map {
            classID -> [String] in
            let atPeak = peak.map { perClass[classID]![$0] } ?? 0
            let count = instances[classID]?.atPeak ?? 0
            return [
                "<a href=\"#class-\(classID)\">\(HTML.escape(profile.classNames[classID]))</a>",
                "\(instances[classID]?.count ?? 0)",
                "\(count)", ByteCount.format(atPeak), ByteCount.format(count > 0 ? atPeak / count : 0),
                StatsReport.percent(Double(atPeak) / Double(total)),
            ]
        }
        return HTML.table(
            ["class", "instances", "at peak", "total at peak", "average", "share"], numeric: [1, 2, 3, 4, 5], rows)
    }

    /// The census beside what the snapshot's tracked instances of each
    /// class keep alive (their sizes), where the class is tracked.
    private func censusTable(_ snapshot: Snapshot) -> String {
        var keptAlive: [String: Int] = [:]
        for (id, size) in zip(snapshot.objectIDs, snapshot.sizes) {
            keptAlive[profile.classNames[profile.objects[Int(id)].classID], default: 0] += size
        }
        return "<p>Live instances of every class at \"\(HTML.escape(snapshot.description))\" "
            + "(\(StatsReport.seconds(snapshot.time)) s). Flat bytes are each instance's own block; "
            + "what tracked instances keep alive is their size in this snapshot.</p>"
            + HTML.table(
                ["class", "live", "flat bytes", "tracked keep alive", "allocated"], numeric: [1, 2, 3, 4],
                snapshot.census.prefix(50).map {
                    [
                        HTML.escape($0.className), "\($0.liveCount)", ByteCount.format($0.liveBytes),
                        keptAlive[$0.className].map(ByteCount.format) ?? "", "\($0.allocations)",
                    ]
                })
    }

    private func garbageSection() -> String {
        var parts = [
            HTML.table(
                ["scan at s", "objects scanned", "cycles", "leaked"], numeric: [0, 1, 2, 3],
                profile.leakScans.map { scan in
                    [
                        StatsReport.seconds(scan.time), "\(scan.report.objectsScanned)", "\(scan.report.cycles.count)",
                        ByteCount.format(scan.report.leakedBytes),
                    ]
                })
        ]
        if let last = profile.leakScans.last, !last.report.cycles.isEmpty {
            let groups = last.report.groups
            parts.append("<p>The cycles of the last scan by shape, the most bytes first:</p>")
            parts.append(
                HTML.table(
                    ["cycles", "objects each", "bytes", "shape"], numeric: [0, 1, 2],
                    groups.prefix(50).map { group in
                        [
                            "\(group.count)", "\(group.example.objects.count)", ByteCount.format(group.bytes),
                            "<code>\(HTML.escape(group.shape))</code>",
                        ]
                    }))
            if groups.count > 50 { parts.append("<p>\(groups.count - 50) more shapes are not listed.</p>") }
        }
        return parts.joined(separator: "\n")
    }

    // MARK: Classes

    private func classSection(_ classID: Int, stats: MemStats, sized: [Int]) -> String {
        let name = profile.classNames[classID]
        var parts = ["<section id=\"class-\(classID)\"><h2>\(HTML.escape(name))</h2>"]
        var counts: [Double] = [], rows: [[String]] = []
        var referentTotals: [String: [Int]] = [:]
        for (column, index) in sized.enumerated() {
            let snapshot = profile.snapshots[index]
            var sizes: [Int] = []
            for (position, id) in snapshot.objectIDs.enumerated() where profile.objects[Int(id)].classID == classID {
                sizes.append(snapshot.sizes[position])
                for referent in snapshot.referentTree(at: position) {
                    referentTotals[referent.name, default: [Int](repeating: 0, count: sized.count)][column] +=
                        referent.size
                }
            }
            counts.append(Double(sizes.count))
            let total = sizes.reduce(0, +)
            rows.append([
                HTML.escape(snapshot.description), StatsReport.seconds(snapshot.time), "\(sizes.count)",
                ByteCount.format(sizes.min() ?? 0), ByteCount.format(sizes.isEmpty ? 0 : total / sizes.count),
                ByteCount.format(sizes.max() ?? 0), ByteCount.format(total),
            ])
        }
        if sized.count > 1 {
            parts.append(
                SVGChart(
                    title: "Instances sized per snapshot", xValues: sized.map { profile.snapshots[$0].time.inSeconds },
                    xUnit: "time (s)",
                    series: [SVGChart.Series(name: "instances", values: counts, isLine: true)],
                    yIsBytes: false, height: 220
                ).render())
        }
        let shownRows = Self.spread(rows.count, limit: Self.snapshotRowLimit)
        parts.append(
            HTML.table(
                ["snapshot", "time s", "instances", "min", "average", "max", "total"], numeric: [1, 2, 3, 4, 5, 6],
                shownRows.map { rows[$0] }) + Self.spreadNote(shownRows.count, of: rows.count))
        if !referentTotals.isEmpty {
            parts.append("<h3>Referents holding the memory (summed over instances)</h3>")
            let names = referentTotals.keys.sorted {
                (referentTotals[$0]!.max() ?? 0, $1) > (referentTotals[$1]!.max() ?? 0, $0)
            }
            let columns = Self.spread(sized.count, limit: Self.referentColumnLimit)
            parts.append(
                HTML.table(
                    ["referent"] + columns.map { HTML.escape(profile.snapshots[sized[$0]].description) },
                    numeric: Set(1...columns.count),
                    names.prefix(30).map { name in
                        [HTML.escape(name)] + columns.map { ByteCount.format(referentTotals[name]![$0]) }
                    })
                    + Self.spreadNote(columns.count, of: sized.count))
        }
        var instances = stats.filtered(exactClassName: name)
        instances.sort(by: [.size])
        let total = instances.count
        parts.append(
            "<h3>Instances</h3><p>\(total) tracked"
                + (total > instanceLimit ? "; the \(instanceLimit) largest are listed" : "") + ".</p>")
        parts.append(instances.limited(to: instanceLimit).rows.map(instanceDetails).joined(separator: "\n"))
        parts.append("</section>")
        return parts.joined(separator: "\n")
    }

    private func instanceDetails(_ row: MemStats.ObjectRow) -> String {
        let object = profile.objects[row.id]
        var summary = "#\(row.id)" + (row.name.map { " “\(HTML.escape($0))”" } ?? "")
        summary +=
            " — max \(ByteCount.format(row.maxSize)), born \(StatsReport.seconds(row.birth)) s, "
            + (row.death.map { "died \(StatsReport.seconds($0)) s" } ?? "alive")
        var inner: [String] = []
        if let trace = object.traceID.map({ profile.traces[$0] }) {
            inner.append("<p>Allocated at:</p><pre>\(HTML.escape(trace.joined(separator: "\n")))</pre>")
        }
        if let last = profile.snapshots.last(where: { $0.referents(of: row.id) != nil }),
            let referents = last.referents(of: row.id),
            let position = last.index(of: row.id)
        {
            let root = SizedNode(
                name: "at “\(last.description)”", typeName: row.className, size: last.sizes[position],
                flatSize: last.flatSizes[position], referents: referents)
            inner.append("<pre>\(HTML.escape(TreeReport(referentLimit: 10).render(root)))</pre>")
        }
        return
            "<details><summary>\(summary)</summary>"
                + "\(inner.isEmpty ? "<p>No trace or referents recorded.</p>" : inner.joined())</details>"
    }

    // MARK: Pieces

    /// A table; cells are HTML already.
}
