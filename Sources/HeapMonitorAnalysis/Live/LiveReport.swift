import HeapMonitorModel

/// Text renderings of what a running process answers (`heapmonitor status`,
/// `census`, `snapshot`): aligned columns, human units.
public enum LiveReport {
    /// What the monitor does in the process.
    public static func status(_ status: ProcessStatus) -> String {
        var lines = [
            "process \(status.pid): \(status.program), monitored for \(StatsReport.seconds(status.uptime)) s",
            "memory: RSS \(ByteCount.format(status.memory.residentBytes)), "
                + "allocator in use \(ByteCount.format(status.memory.allocatorBytes)) (\(status.allocator)), "
                + "virtual \(ByteCount.format(status.memory.virtualBytes))",
            "monitor: \(ByteCount.format(status.monitorBytes)) of its own, "
                + "\(counted(status.droppedEvents, "dropped event"))",
            "profile: " + (status.profilePath.map { "\($0) (\(ByteCount.format(status.profileBytes)))" } ?? "none"),
            "census: " + (status.countsInstances ? "on" : "off (the first census walks the heap)") + "; leak watch: "
                + (status.watchesForLeaks ? "on" : "off") + "; snapshot signal: "
                + (status.snapshotSignal.map { "\($0)" } ?? "none"),
            "tracked: \(counted(status.liveTrackedObjects, "live object")) of "
                + counted(status.trackedClasses.filter(\.tracksNewInstances).count, "class"),
        ]
        if !status.trackedClasses.isEmpty {
            var table = TextTable(headers: ["class", "level", "trace", "new instances"], numeric: [1])
            for tracked in status.trackedClasses {
                table.rows.append([
                    tracked.name, "\(tracked.resolutionLevel)", tracked.trace ? "yes" : "no",
                    tracked.tracksNewInstances ? "tracked" : "not tracked",
                ])
            }
            lines.append(table.render())
        }
        return lines.joined(separator: "\n")
    }

    /// What the census's bytes are, under every census table.
    static let flatBytesNote =
        "flat bytes: each instance's own block; what instances keep alive: `heapmonitor dominators PID`"

    /// Classes by live bytes, then the totals.
    public static func census(_ census: LiveCensus) -> String {
        var table = TextTable(headers: ["#", "instances", "flat bytes", "class"], numeric: [0, 1, 2])
        for (rank, entry) in census.entries.enumerated() {
            table.rows.append(["\(rank + 1)", "\(entry.liveCount)", ByteCount.format(entry.liveBytes), entry.className])
        }
        let hidden = census.classCount - census.entries.count
        return [
            census.entries.isEmpty ? "no live instances counted" : table.render(),
            (hidden > 0 ? "\(counted(hidden, "more class")) not listed; " : "")
                + "total \(counted(census.liveCount, "instance")), \(ByteCount.format(census.liveBytes)) "
                + "in \(counted(census.classCount, "class")); "
                + "RSS \(ByteCount.format(census.memory.residentBytes)), "
                + "allocator in use \(ByteCount.format(census.memory.allocatorBytes))",
            Self.flatBytesNote,
        ].joined(separator: "\n")
    }

    /// `heapmonitor top`'s screen: the process's memory, then at most
    /// `limit` classes ordered by `order` with their growth over the
    /// history's span, names cut to fit `width` columns.
    public static func top(
        _ history: CensusHistory, of pid: Int32, by order: CensusHistory.Order, limit: Int, width: Int
    ) -> String {
        guard let census = history.latest else { return "process \(pid): waiting for its first census" }
        let rows = history.rows(by: order)
        var table = TextTable(headers: ["instances", "flat", "instances/s", "bytes/s", "class"],
                              numeric: [0, 1, 2, 3])
        for row in rows.prefix(max(0, limit)) {
            table.rows.append([
                "\(row.liveCount)", ByteCount.format(row.liveBytes), rate(row.countPerSecond),
                rate(row.bytesPerSecond, ByteCount.format), row.className,
            ])
        }
        let span = history.span == .zero ? "growth from the next census on"
            : "growth over the last \(StatsReport.seconds(history.span)) s"
        let lines = [
            "process \(pid) at \(StatsReport.seconds(census.time)) s; \(span); by \(order.rawValue)",
            "RSS \(ByteCount.format(census.memory.residentBytes)), "
                + "allocator in use \(ByteCount.format(census.memory.allocatorBytes)); "
                + "\(counted(census.liveCount, "instance")), \(ByteCount.format(census.liveBytes)) "
                + "in \(counted(census.classCount, "class"))",
            "",
        ] + table.render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.map { $0.count > width ? String($0.prefix(max(0, width - 1))) + "…" : $0 }
            .joined(separator: "\n")
    }

    /// `+12/s`, `-1.5/s`, `0`; with `unit`, `+1.2 KiB/s`.
    private static func rate(_ perSecond: Double, _ unit: ((Int) -> String)? = nil) -> String {
        let rounded = (perSecond * 10).rounded() / 10
        guard rounded != 0 else { return "0" }
        let sign = rounded > 0 ? "+" : "-"
        if let unit { return sign + unit(Int(abs(perSecond).rounded())) + "/s" }
        let magnitude = abs(rounded)
        let whole = magnitude >= 10 || magnitude == magnitude.rounded()
        let digits = whole ? "\(Int(magnitude.rounded()))" : "\(magnitude)"
        return sign + digits + "/s"
    }

    /// A snapshot taken on request.
    public static func snapshot(_ snapshot: SnapshotSummary) -> String {
        "snapshot \"\(snapshot.description)\" at \(StatsReport.seconds(snapshot.time)) s: "
            + "\(counted(snapshot.objectCount, "tracked object")), \(ByteCount.format(snapshot.trackedBytes)); "
            + "RSS \(ByteCount.format(snapshot.memory.residentBytes)); "
            + (snapshot.profilePath.map { "written to \($0)" }
                ?? "the process writes no profile (give -o FILE to keep one)")
    }
}
