import HeapMonitorModel

extension MemStats {
    /// What changed between two snapshots of one profile: growth per class,
    /// objects that appeared and objects that went.
    public struct SnapshotDiff: Hashable, Sendable, Codable {
        /// The profile of `from`.
        public var fromProfile: Profile.ID
        /// The profile of `to`: `fromProfile`, or another run (then classes
        /// are matched by name and objects are not matched).
        public var toProfile: Profile.ID
        /// The earlier snapshot's index in its profile.
        public var from: Int
        /// The later snapshot's index in its profile.
        public var to: Int
        /// Per class, the largest growth first.
        public var classes: [ClassChange]
        /// Objects sized in `to` but not in `from`, the largest first.
        public var newObjects: [ObjectChange]
        /// Objects sized in `from` but not in `to`, the largest first.
        public var freedObjects: [ObjectChange]

        /// Bytes the tracked objects grew by.
        public var growth: Int { classes.reduce(0) { $0 + $1.bytesAfter - $1.bytesBefore } }

        /// Whether the snapshots are of two runs.
        public var isAcrossRuns: Bool { fromProfile != toProfile }
    }

    /// One class's change.
    public struct ClassChange: Hashable, Sendable, Codable {
        public var className: String
        public var countBefore: Int
        public var countAfter: Int
        public var bytesBefore: Int
        public var bytesAfter: Int
        /// Objects of the class that appeared, and that went.
        public var new: Int
        public var freed: Int
    }

    /// An object that appeared or went.
    public struct ObjectChange: Hashable, Sendable, Codable {
        public var id: Int
        public var className: String
        public var name: String?
        public var size: Int
    }

    /// The difference between snapshots `from` and `to` (indices) of
    /// `profile` (by default the first), over the objects the rows keep;
    /// nil if there is no such profile or snapshot.
    ///
    /// ```swift
    /// let stats = try MemStats(loading: ["heap.hmprof"])
    /// if let diff = stats.diff(from: 0, to: 2) { print(StatsReport.diff(diff, in: stats)) }
    /// ```
    public func diff(from: Int, to: Int, in profile: Profile.ID? = nil) -> SnapshotDiff? {
        guard let position = position(of: profile) else { return nil }
        let profile = profiles[position]
        guard profile.snapshots.indices.contains(from), profile.snapshots.indices.contains(to) else { return nil }
        let kept = Set(rows.filter { $0.profile == profile.id }.map(\.id))
        func sizes(_ snapshot: Snapshot) -> [Int: Int] {
            var result: [Int: Int] = [:]
            for (position, id) in snapshot.objectIDs.enumerated() where kept.contains(Int(id)) {
                result[Int(id)] = snapshot.sizes[position]
            }
            return result
        }
        let before = sizes(profile.snapshots[from]), after = sizes(profile.snapshots[to])
        var classes: [Int: ClassChange] = [:]
        func change(_ id: Int, _ body: (inout ClassChange) -> Void) {
            let classID = profile.objects[id].classID
            body(
                &classes[
                    classID,
                    default: ClassChange(
                        className: profile.classNames[classID], countBefore: 0, countAfter: 0,
                        bytesBefore: 0, bytesAfter: 0, new: 0, freed: 0)])
        }
        func object(_ id: Int, _ size: Int) -> ObjectChange {
            ObjectChange(
                id: id, className: profile.classNames[profile.objects[id].classID], name: profile.objects[id].name,
                size: size)
        }
        var newObjects: [ObjectChange] = [], freedObjects: [ObjectChange] = []
        for (id, size) in before {
            change(id) {
                $0.countBefore += 1; $0.bytesBefore += size
            }
            if after[id] == nil { change(id) { $0.freed += 1 }; freedObjects.append(object(id, size)) }
        }
        for (id, size) in after {
            change(id) {
                $0.countAfter += 1; $0.bytesAfter += size
            }
            if before[id] == nil { change(id) { $0.new += 1 }; newObjects.append(object(id, size)) }
        }
        let bySize: (ObjectChange, ObjectChange) -> Bool = { ($1.size, $0.id) < ($0.size, $1.id) }
        return SnapshotDiff(
            fromProfile: profile.id, toProfile: profile.id, from: from, to: to,
            classes: Self.byGrowth(classes.values), newObjects: newObjects.sorted(by: bySize),
            freedObjects: freedObjects.sorted(by: bySize))
    }

    /// The difference between snapshot `from` of `fromProfile` and snapshot
    /// `to` of `toProfile` — two runs of a program, before and after a
    /// change: per class, matched by name.
    ///
    /// ```swift
    /// let stats = try MemStats(loading: ["before.hmprof", "after.hmprof"])
    /// let (before, after) = (stats.profiles[0], stats.profiles[1])
    /// let diff = stats.diff(
    ///     from: before.snapshots.count - 1, in: before.id,
    ///     to: after.snapshots.count - 1, in: after.id)
    /// ```
    public func diff(
        from: Int, in fromProfile: Profile.ID, to: Int, in toProfile: Profile.ID
    ) -> SnapshotDiff? {
        guard fromProfile != toProfile else { return diff(from: from, to: to, in: fromProfile) }
        guard let before = self.profile(withID: fromProfile), let after = self.profile(withID: toProfile),
            before.snapshots.indices.contains(from), after.snapshots.indices.contains(to)
        else { return nil }
        var classes: [String: ClassChange] = [:]
        for (profile, snapshot, isAfter) in [(before, from, false), (after, to, true)] {
            let kept = Set(rows.filter { $0.profile == profile.id }.map(\.id))
            let taken = profile.snapshots[snapshot]
            for (position, id) in taken.objectIDs.enumerated() where kept.contains(Int(id)) {
                let name = profile.classNames[profile.objects[Int(id)].classID]
                var change =
                    classes[name]
                    ?? ClassChange(
                        className: name, countBefore: 0, countAfter: 0, bytesBefore: 0,
                        bytesAfter: 0, new: 0, freed: 0)
                if isAfter {
                    change.countAfter += 1; change.bytesAfter += taken.sizes[position]
                } else {
                    change.countBefore += 1; change.bytesBefore += taken.sizes[position]
                }
                classes[name] = change
            }
        }
        return SnapshotDiff(
            fromProfile: fromProfile, toProfile: toProfile, from: from, to: to,
            classes: Self.byGrowth(classes.values), newObjects: [], freedObjects: [])
    }

    private static func byGrowth(_ classes: some Sequence<ClassChange>) -> [ClassChange] {
        classes.sorted {
            ($1.bytesAfter - $1.bytesBefore, $0.className) < ($0.bytesAfter - $0.bytesBefore, $1.className)
        }
    }
}
