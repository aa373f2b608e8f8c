import HeapMonitorModel

/// Text renderings of `MemStats`: human units, aligned columns.
public enum StatsReport {
    /// One line per row: class, name, birth, death, largest, at peak and last size.
    public static func objects(_ stats: MemStats) -> String {
        var table = TextTable(
            headers: ["id", "class", "name", "born s", "died s", "max", "at peak", "last"],
            numeric: [0, 3, 4, 5, 6, 7])
        for row in stats.rows {
            table.rows.append([
                stats.profiles.count > 1 ? "\(stats.position(of: row.profile) ?? 0):\(row.id)" : "\(row.id)",
                shortClassName(row.className), row.name ?? "", seconds(row.birth), row.death.map(seconds) ?? "alive",
                ByteCount.format(row.maxSize), ByteCount.format(row.peakSize), ByteCount.format(row.lastSize),
            ])
        }
        return table.render()
    }

    /// Per snapshot and class: count, total, average, share.
    public static func summary(_ stats: MemStats) -> String {
        summary(stats.summary(), in: stats)
    }

    /// The per-class tables of `rows` (some of `stats.summary()`), a table
    /// per snapshot.
    public static func summary(_ rows: [MemStats.ClassSummary], in stats: MemStats) -> String {
        var sections: [String] = []
        var current: (profile: Profile.ID, snapshot: Int)?
        var table = TextTable(headers: [], numeric: [])
        func close() { if current != nil { sections.append(table.render()) } }
        for row in rows {
            let isNewSnapshot = current.map { $0.profile != row.profile || $0.snapshot != row.snapshot } ?? true
            if isNewSnapshot, let profile = stats.profile(withID: row.profile) {
                close()
                current = (row.profile, row.snapshot)
                let snapshot = profile.snapshots[row.snapshot]
                let title =
                    (stats.profiles.count > 1 ? "\(profile.path): " : "")
                    + "snapshot \(row.snapshot) \"\(snapshot.description)\" at \(seconds(snapshot.time)) s: "
                    + "tracked \(ByteCount.format(snapshot.trackedBytes)), "
                        + "RSS \(ByteCount.format(snapshot.memory.residentBytes)), "
                    + "allocator \(ByteCount.format(snapshot.memory.allocatorBytes))"
                table = TextTable(headers: ["class", "count", "total", "average", "share"], numeric: [1, 2, 3, 4])
                sections.append(title)
            }
            table.rows.append([
                shortClassName(row.className), "\(row.count)", ByteCount.format(row.totalBytes),
                ByteCount.format(row.averageBytes), percent(row.share),
            ])
        }
        close()
        return sections.isEmpty ? "no snapshots sized any object" : sections.joined(separator: "\n")
    }

    /// One object: its record, its size in each snapshot, its trace and its
    /// referents in the last snapshot that sized them.
    public static func object(_ row: MemStats.ObjectRow, in stats: MemStats) -> String {
        guard let profile = stats.profile(withID: row.profile) else { return "object \(row.id): not in these profiles" }
        let object = profile.objects[row.id]
        var lines = [
            "object \(row.id): \(row.className)" + (row.name.map { " \"\($0)\"" } ?? ""),
            "born \(seconds(row.birth)) s, " + (row.death.map { "died \(seconds($0)) s" } ?? "alive at the end")
                + ", resolution level \(object.resolutionLevel)",
        ]
        var table = TextTable(headers: ["snapshot", "time s", "size", "flat"], numeric: [1, 2, 3])
        var tree: SizedNode?
        for snapshot in profile.snapshots {
            guard let position = snapshot.index(of: row.id) else { continue }
            table.rows.append([
                snapshot.description, seconds(snapshot.time), ByteCount.format(snapshot.sizes[position]),
                ByteCount.format(snapshot.flatSizes[position]),
            ])
            let referents = snapshot.referentTree(at: position)
            if !referents.isEmpty {
                tree = SizedNode(
                    name: "at \"\(snapshot.description)\"", typeName: row.className, size: snapshot.sizes[position],
                    flatSize: snapshot.flatSizes[position], referents: referents)
            }
        }
        lines.append(table.rows.isEmpty ? "never sized" : table.render())
        if let traceID = object.traceID {
            lines.append("allocated at:")
            lines += profile.traces[traceID].map { "  " + $0 }
        }
        if let tree { lines.append(TreeReport(referentLimit: 10).render(tree)) }
        return lines.joined(separator: "\n")
    }

    /// The process's memory at every snapshot (or, without `background`,
    /// at the program's own), then the peaks over all of them.
    public static func memory(_ profile: Profile, background: Bool = true) -> String {
        var table = TextTable(
            headers: ["time s", "description", "virtual", "RSS", "allocator", "tracked"], numeric: [0, 2, 3, 4, 5])
        for snapshot in profile.snapshots where background || !snapshot.isBackground {
            table.rows.append([
                seconds(snapshot.time), snapshot.description, ByteCount.format(snapshot.memory.virtualBytes),
                ByteCount.format(snapshot.memory.residentBytes), ByteCount.format(snapshot.memory.allocatorBytes),
                ByteCount.format(snapshot.trackedBytes),
            ])
        }
        let hidden = background ? [] : profile.snapshots.filter(\.isBackground)
        return
            ([table.render()] + [backgroundSummary(hidden), memoryPeaks(profile)]
            .compactMap { $0 }).joined(separator: "\n")
    }

    /// One line for background snapshots left out of a listing: how many,
    /// over which span, and the range of the resident set and the
    /// allocator's bytes over them.
    static func backgroundSummary(_ snapshots: [Snapshot]) -> String? {
        guard let first = snapshots.first, let last = snapshots.last else { return nil }
        func range(_ bytes: (Snapshot) -> Int) -> String {
            let values = snapshots.map(bytes)
            return "\(ByteCount.format(values.min() ?? 0))–\(ByteCount.format(values.max() ?? 0))"
        }
        return "\(counted(snapshots.count, "background snapshot")) not listed, "
            + "from \(seconds(first.time)) to \(seconds(last.time)) s: "
            + "RSS \(range(\.memory.residentBytes)), allocator \(range(\.memory.allocatorBytes))"
    }

    /// Where the resident set and the allocator's bytes in use peaked.
    public static func memoryPeaks(_ profile: Profile) -> String? {
        guard let rss = profile.snapshots.max(by: { $0.memory.residentBytes < $1.memory.residentBytes }),
            let allocator = profile.snapshots.max(by: { $0.memory.allocatorBytes < $1.memory.allocatorBytes })
        else { return nil }
        return "peak RSS \(ByteCount.format(rss.memory.residentBytes)) at \(seconds(rss.time)) s (\(rss.description)); "
            + "peak allocator in use \(ByteCount.format(allocator.memory.allocatorBytes)) "
            + "at \(seconds(allocator.time)) s "
            + "(\(allocator.description))"
    }

    /// Growth per class, then the largest new and freed objects.
    /// Within one run, also the objects that appeared and went; across two
    /// runs, classes only (objects cannot be matched).
    public static func diff(_ diff: MemStats.SnapshotDiff, in stats: MemStats, limit: Int = 10) -> String {
        guard let before = stats.profile(withID: diff.fromProfile), let after = stats.profile(withID: diff.toProfile)
        else { return "the diff's profiles are not among these" }
        let acrossRuns = diff.isAcrossRuns
        func place(_ profile: Profile, _ index: Int) -> String {
            (acrossRuns ? "\(profile.path) " : "") + "snapshot \(index) \"\(profile.snapshots[index].description)\""
        }
        var lines = [
            "from \(place(before, diff.from)) to \(place(after, diff.to)): tracked objects \(signedBytes(diff.growth))"
        ]
        var classes = TextTable(
            headers: ["class", "count", "Δ count", "bytes", "Δ bytes"] + (acrossRuns ? [] : ["new", "freed"]),
            numeric: acrossRuns ? [1, 2, 3, 4] : [1, 2, 3, 4, 5, 6])
        for change in diff.classes {
            classes.rows.append(
                [
                    shortClassName(change.className), "\(change.countAfter)",
                    signed(change.countAfter - change.countBefore),
                    ByteCount.format(change.bytesAfter), signedBytes(change.bytesAfter - change.bytesBefore),
                ]
                    + (acrossRuns ? [] : ["\(change.new)", "\(change.freed)"]))
        }
        lines.append(classes.render())
        for (title, objects) in [("new objects", diff.newObjects), ("freed objects", diff.freedObjects)]
        where !objects.isEmpty {
            lines.append("\(title) (\(objects.count)), largest first:")
            var table = TextTable(headers: ["id", "class", "name", "size"], numeric: [0, 3])
            for object in objects.prefix(limit) {
                table.rows.append([
                    "\(object.id)", shortClassName(object.className), object.name ?? "", ByteCount.format(object.size),
                ])
            }
            lines.append(table.render())
        }
        return lines.joined(separator: "\n")
    }

    /// `time` in seconds with three decimals: `12.034`.
    package static func seconds(_ time: Duration) -> String {
        let millis = Int((time.inSeconds * 1000).rounded())
        let fraction = String(abs(millis) % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    package static func percent(_ share: Double) -> String {
        let tenths = Int((share * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }

    package static func signed(_ value: Int) -> String { value > 0 ? "+\(value)" : "\(value)" }

    package static func signedBytes(_ value: Int) -> String { (value > 0 ? "+" : "") + ByteCount.format(value) }
}
