#if canImport(Glibc)
import Glibc
#endif
import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// The reply to one control request. Sized work (snapshots, leak scans)
    /// runs where `isolation` says — forked by default — so a request never
    /// reads the live heap in this process.
    func answer(_ request: ControlRequest) -> ControlReply {
        switch request {
        case .status:
            return .status(controlStatus)
        case .census(let limit):
            return answerCensus(limit: limit)
        case .snapshot(let description, let path):
            do {
                let snapshot: Snapshot
                if let path {
                    snapshot = try takeSnapshot(named: description, intoNewProfileAt: path)
                } else {
                    snapshot = try takeSnapshot(named: description)
                }
                return .snapshot(
                    SnapshotSummary(
                        description: description, time: snapshot.time, memory: snapshot.memory,
                        trackedBytes: snapshot.trackedBytes, objectCount: snapshot.objectIDs.count,
                        profilePath: path ?? profilePath))
            } catch {
                return .failure("no snapshot: \(error)")
            }
        case .leaks:
            do { return .leaks(try findLeaks()) } catch { return .failure("no leak scan: \(error)") }
        case .heapGraph:
            do { return .heapGraph(try captureHeapGraph()) } catch { return .failure("no heap graph: \(error)") }
        case .track(let className, let level, let trace):
            do {
                try track(className: className, resolutionLevel: level, trace: trace)
                return .done("tracking \(className) at resolution level \(level)" + (trace ? " with traces" : ""))
            } catch {
                return .failure("\(error)")
            }
        case .untrack(let className):
            guard let type = Self.loadedClass(named: className) else {
                return .failure("\(HookError.unknownClass(className))")
            }
            stopTracking(class: type)
            return .done("no longer tracking new instances of \(className)")
        }
    }

    /// What the monitor does in this process now.
    var controlStatus: ProcessStatus {
        let (classes, live, path, monitor, leaks) = state.withLock { state in
            state.drain()
            let named = state.registrations.map { ($0.key.name, $0.value) } + state.patterns.values.map { $0 }
            let classes = named.map { name, registration in
                ProcessStatus.TrackedClass(
                    name: name, resolutionLevel: registration.resolutionLevel, trace: registration.trace,
                    tracksNewInstances: registration.tracksNewInstances)
            }.sorted { $0.name < $1.name }
            return (classes, state.records.liveCount, state.profile?.path, state.monitorBytes, state.watchesForLeaks)
        }
        var info = stat()
        let bytes = path.map { stat($0, &info) == 0 ? Int(info.st_size) : 0 } ?? 0
        return ProcessStatus(
            pid: getpid(), program: Self.executablePath, uptime: MonitorClock.elapsed, memory: .current(),
            trackedClasses: classes, liveTrackedObjects: live, profilePath: path, profileBytes: bytes,
            monitorBytes: monitor, droppedEvents: droppedEvents, countsInstances: censusIsOn,
            watchesForLeaks: leaks, snapshotSignal: controlSnapshotSignal,
            allocator: ProcessMemory.allocator)
    }

    /// The profile being written, if any.
    var profilePath: String? { state.withLock { $0.profile?.path } }

    private static var executablePath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
}

extension ClassKey {
    /// The class's name; a generic class tracked in every specialisation
    /// shows its parameters as `<…>`.
    var name: String {
        guard let pointer = UnsafeRawPointer(bitPattern: pointer) else { return "?" }
        return byDescriptor ? ContextDescriptor(pointer).name + "<…>" : Metadata(pointer).name
    }
}
