extension MemStats {
    /// One class in one snapshot.
    public struct ClassSummary: Hashable, Sendable, Codable {
        /// The profile of the snapshot.
        public var profile: Profile.ID
        /// Index of the snapshot in its profile.
        public var snapshot: Int
        public var snapshotDescription: String
        public var className: String
        /// Objects of the class sized in the snapshot.
        public var count: Int
        /// Their summed sizes.
        public var totalBytes: Int
        /// `totalBytes / count`.
        public var averageBytes: Int
        /// `totalBytes` over the snapshot's tracked bytes (0…1).
        public var share: Double
    }

    /// Per snapshot and class (of the rows kept by filtering and limiting):
    /// count, total, average, share — snapshots in order, classes by total.
    public func summary() -> [ClassSummary] {
        let kept = Set(rows.map { RowKey(profile: $0.profile, id: $0.id) })
        var result: [ClassSummary] = []
        for profile in profiles {
            for (snapshotIndex, snapshot) in profile.snapshots.enumerated() {
                var byClass: [Int: (count: Int, bytes: Int)] = [:]
                for (position, id) in snapshot.objectIDs.enumerated()
                where kept.contains(RowKey(profile: profile.id, id: Int(id))) {
                    byClass[profile.objects[Int(id)].classID, default: (0, 0)].count += 1
                    byClass[profile.objects[Int(id)].classID, default: (0, 0)].bytes += snapshot.sizes[position]
                }
                let total = max(1, snapshot.trackedBytes)
                result += byClass.map { classID, entry in
                    ClassSummary(
                        profile: profile.id, snapshot: snapshotIndex, snapshotDescription: snapshot.description,
                        className: profile.classNames[classID], count: entry.count, totalBytes: entry.bytes,
                        averageBytes: entry.bytes / max(1, entry.count), share: Double(entry.bytes) / Double(total))
                }.sorted { ($1.totalBytes, $0.className) < ($0.totalBytes, $1.className) }
            }
        }
        return result
    }

    struct RowKey: Hashable {
        var profile: Profile.ID
        var id: Int
    }
}
