import ArgumentParser
import HeapMonitor

/// How a command's options name a snapshot of a profile: its index (0 the
/// first, -1 the last), its description, `last` (the last that sized
/// objects) or `peak` (the one with the most tracked bytes).
enum SnapshotChoice {
    static let help =
        "index (0 the first, -1 the last), description, "
            + "last (the last that sized objects) or peak (the most tracked bytes)"

    /// The last snapshot that sized objects, before `end` if given.
    static func lastSized(in snapshots: [Snapshot], before end: Int? = nil) -> Int? {
        snapshots.indices.last { $0 < (end ?? snapshots.count) && snapshots[$0].sizedObjects }
    }

    /// The snapshot `text` names, or a usage error saying why there is none.
    static func index(_ text: String, in snapshots: [Snapshot]) throws -> Int {
        switch text {
        case "last":
            guard let index = lastSized(in: snapshots) else {
                throw ValidationError("no snapshot sized any object")
            }
            return index
        case "peak":
            guard
                let index = snapshots.indices.filter({ snapshots[$0].sizedObjects })
                    .max(by: { snapshots[$0].trackedBytes < snapshots[$1].trackedBytes })
            else {
                throw ValidationError("no snapshot sized any object")
            }
            return index
        default:
            if let number = Int(text) {
                let index = number < 0 ? snapshots.count + number : number
                guard snapshots.indices.contains(index) else {
                    throw ValidationError("snapshot \(text) does not exist (there are \(snapshots.count))")
                }
                return index
            }
            guard let index = snapshots.firstIndex(where: { $0.description == text }) else {
                throw ValidationError("no snapshot is described \"\(text)\"")
            }
            return index
        }
    }
}
