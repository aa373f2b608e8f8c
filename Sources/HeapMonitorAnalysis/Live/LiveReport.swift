import HeapMonitorModel

/// Text renderings of what a running process answers (`heapmonitor status`,
/// `census`, `snapshot`): aligned columns, human units.
public enum LiveReport {
    /// What the monitor does in the process.
    public static func status(_ status: ProcessStatus) -> String {
        var lines = [
            "process \(status.pid): \(status.program), monitored for \(StatsReport.seconds(status.uptime)) s",
            "memory: RSS \(ByteCount.format(status.memory.residentBytes)), "
                + "allocator in use \(ByteCount.format(status.memory.allocatorBytes)), "
                + "virtual \(ByteCount.format(status.memory.virtualBytes))",
            "monitor: \(ByteCount.format(status.monitorBytes)) of its own, "
                + "\(counted(status.droppedEvents, "dropped event"))",
            "profile: " + (status.profilePath.map { "\($0) (\(ByteCount.format(status.profileBytes)))" } ?? "none"),
            "census: " + (status.countsInstances ? "on" : "off") + "; leak watch: "
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

    /// Classes by live bytes, then the totals.
    public static func census(_ census: LiveCensus) -> String {
        var table = TextTable(headers: ["#", "instances", "bytes", "class"], numeric: [0, 1, 2])
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
        ].joined(separator: "\n")
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
