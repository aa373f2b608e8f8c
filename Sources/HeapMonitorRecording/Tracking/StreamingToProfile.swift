import HeapMonitorModel

// What the tracker hands its profile writer: what is new since the last
// record written, as plain values, in the order the format needs (a class,
// trace or object before anything that names it).
extension TrackerState {
    /// Writes `snapshot`, or for a background one what `backgroundThinner`
    /// keeps of it.
    mutating func record(_ snapshot: Snapshot) {
        guard profile != nil else { return }
        if snapshot.isBackground {
            if let kept = backgroundThinner.admit(snapshot) { writeProfile(kept) }
            return
        }
        if let peak = backgroundThinner.closeWindow() { writeProfile(peak) }
        writeProfile(snapshot)
    }

    /// Writes what the profile lacks and the snapshot, then flushes.
    mutating func writeProfile(_ snapshot: Snapshot) {
        guard var writer = profile.take() else { return }
        // A record in the file keeps its number: only stable records are
        // never renumbered or dropped (a background snapshot, which sizes
        // nothing, has not made them so).
        records.stabilise()
        while writer.writtenClasses < classMetadata.count {
            let id = writer.writtenClasses
            writer.writeClass(id: id, name: className(UInt32(id)))
        }
        while writer.writtenTraces < traces.count {
            let id = writer.writtenTraces
            writer.writeTrace(id: id, frames: traces[id].symbolicated().map(\.description))
        }
        for record in writer.pendingDeaths where records.deaths[record] != 0 {
            writer.writeDeath(ofObject: record, at: MonitorClock.time(records.deaths[record]))
        }
        writer.pendingDeaths.removeAll()
        while writer.writtenRecords < records.count {
            let object = trackedObject(writer.writtenRecords)
            writer.writeObject(ProfiledObject(
                id: object.id, classID: Int(records.classes[object.id]), name: object.name, birth: object.birth,
                death: object.death, resolutionLevel: object.resolutionLevel,
                traceID: Int(records.traces[object.id])))
        }
        let shortLivedRows = shortLived.sorted { $0.key < $1.key }.map { classID, entry in
            Snapshot.ShortLived(classID: Int(classID), count: entry.count,
                                totalLifetime: MonitorClock.span(entry.lifetime))
        }
        writer.writeSnapshot(snapshot, shortLived: shortLivedRows)
        profile = consume writer
    }

    /// Records a leak scan and flushes.
    mutating func writeLeaks(_ report: LeakReport) {
        guard var writer = profile.take() else { return }
        writer.writeLeaks(report, at: MonitorClock.elapsed)
        profile = consume writer
    }

    /// Records a heap graph and flushes.
    mutating func writeHeapGraph(_ graph: HeapGraph) {
        guard var writer = profile.take() else { return }
        writer.writeHeapGraph(graph, at: MonitorClock.elapsed)
        profile = consume writer
    }

    /// Ends the profile: an end record, and the file is closed.
    mutating func finishProfile() -> ProfileError? {
        if profile != nil, let peak = backgroundThinner.finish() { writeProfile(peak) }
        return profile.take()?.finish()
    }
}
