import HeapMonitorModel

/// Off-line statistics over one or more profiles: load, sort, filter,
/// limit, then print.
///
/// ```swift
/// var stats = try MemStats(loading: ["heap.hmprof"])
/// stats.sort(by: [.size])
/// print(StatsReport.objects(stats.filtered(className: "Node").limited(to: 10)))
/// ```
public struct MemStats: Sendable {
    /// The profiles loaded.
    public private(set) var profiles: [Profile]
    /// The kept objects, in the current order: plain values, so that sorting
    /// a million of them moves no strings.
    private var entries: [Entry]
    /// Per profile, each class id's rank in name order.
    private let classRanks: [[Int32]]
    /// Each profile's position in `profiles`.
    private let positions: [Profile.ID: Int]

    /// Statistics over profiles loaded already.
    public init(profiles: [Profile]) {
        self.profiles = profiles
        positions = Dictionary(profiles.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        entries = profiles.enumerated().flatMap { index, profile in Self.entries(of: profile, index: index) }
        classRanks = profiles.map { profile in
            var ranks = [Int32](repeating: 0, count: profile.classNames.count)
            for (rank, classID) in profile.classNames.indices.sorted(by: {
                profile.classNames[$0] < profile.classNames[$1]
            }).enumerated() {
                ranks[classID] = Int32(rank)
            }
            return ranks
        }
    }

    /// Loads the profiles at `paths`.
    public init(loading paths: [String]) throws(ProfileError) {
        var profiles: [Profile] = []
        for path in paths { profiles.append(try Profile.load(from: path)) }
        self.init(profiles: profiles)
    }

    /// Keys to sort by.
    public enum SortKey: String, CaseIterable, Sendable, Codable {
        /// The largest size seen in any snapshot (largest first).
        case size
        /// The size in the snapshot with the most tracked bytes (largest first).
        case peak
        /// The tracked object's name.
        case name
        /// The class name.
        case className = "class"
        /// Birth time (earliest first).
        case birth
        /// Death time (earliest first; objects still alive last).
        case death
    }

    /// Sorts rows by `keys` in turn, each in its natural order (sizes
    /// descending, names and times ascending), or all reversed.
    public mutating func sort(by keys: [SortKey], reverse: Bool = false) {
        let keys = keys.isEmpty ? [.size] : keys
        if keys == [.size], !reverse {  // the common case, without the general comparison's dispatch
            entries.sort { ($1.maxSize, $0.profile, $0.id) < ($0.maxSize, $1.profile, $1.id) }
            return
        }
        let profiles = self.profiles, ranks = classRanks
        entries.sort { a, b in
            for key in keys {
                if let first = Self.precedes(a, b, by: key, profiles, ranks) { return first != reverse }
            }
            return (a.profile, a.id) < (b.profile, b.id)
        }
    }

    /// Rows whose class name contains `text` (ignoring case).
    public func filtered(className text: String) -> MemStats {
        guard !text.isEmpty else { return self }
        let needle = text.lowercased()
        let matching = profiles.map { profile in profile.classNames.map { $0.lowercased().contains(needle) } }
        var copy = self
        copy.entries = entries.filter { matching[Int($0.profile)][Int($0.classID)] }
        return copy
    }

    /// Rows of exactly the class named `name`.
    func filtered(exactClassName name: String) -> MemStats {
        let matching = profiles.map { profile in profile.classNames.map { $0 == name } }
        var copy = self
        copy.entries = entries.filter { matching[Int($0.profile)][Int($0.classID)] }
        return copy
    }

    /// The first `count` rows.
    public func limited(to count: Int) -> MemStats {
        var copy = self
        copy.entries = Array(entries.prefix(max(0, count)))
        return copy
    }

    /// The first `fraction` (0…1) of the rows, at least one if there are any.
    public func limited(toFraction fraction: Double) -> MemStats {
        let count = entries.isEmpty ? 0 : max(1, Int((Double(entries.count) * min(1, max(0, fraction))).rounded()))
        return limited(to: count)
    }

    /// How many rows there are.
    public var count: Int { entries.count }

    /// The rows, in the current order.
    public var rows: [ObjectRow] { entries.map(row) }

    /// The row of object `id` in `profile` (by default the first profile),
    /// if the rows keep it.
    ///
    /// ```swift
    /// let stats = try MemStats(loading: ["heap.hmprof"])
    /// if let row = stats.row(id: 3) { print(StatsReport.object(row, in: stats)) }
    /// ```
    public func row(id: Int, in profile: Profile.ID? = nil) -> ObjectRow? {
        guard let position = position(of: profile) else { return nil }
        return entries.first { Int($0.id) == id && Int($0.profile) == position }.map(row)
    }

    /// The loaded profile with `id`, if it is one of `profiles`.
    public func profile(withID id: Profile.ID) -> Profile? {
        positions[id].map { profiles[$0] }
    }

    /// Where `profile` is in `profiles` (nil: the first), if it is there.
    func position(of profile: Profile.ID?) -> Int? {
        guard let profile else { return profiles.isEmpty ? nil : 0 }
        return positions[profile]
    }

    // MARK: Rows

    /// One tracked object's statistics.
    public struct ObjectRow: Hashable, Sendable, Codable {
        /// The profile it was recorded in.
        public var profile: Profile.ID
        /// Its id in that profile.
        public var id: Int
        /// Its class, fully qualified.
        public var className: String
        /// The name it was tracked with, if any.
        public var name: String?
        /// When it was born (or first tracked), on the monitor's clock.
        public var birth: Duration
        /// When it died; nil if it lived to the end of the profile.
        public var death: Duration?
        /// Largest size over the snapshots (0 if never sized).
        public var maxSize: Int
        /// Size in the profile's snapshot with the most tracked bytes.
        public var peakSize: Int
        /// Size in the last snapshot that sized it.
        public var lastSize: Int
        /// Snapshots that sized it.
        public var snapshotCount: Int
    }

    private struct Entry: Sendable {
        var profile: Int32
        var id: Int32
        var classID: Int32
        var snapshotCount: Int32
        var maxSize: Int
        var peakSize: Int
        var lastSize: Int
        var birth: Double
        /// Infinity while alive.
        var death: Double
    }

    private func row(_ entry: Entry) -> ObjectRow {
        let profile = profiles[Int(entry.profile)], object = profile.objects[Int(entry.id)]
        return ObjectRow(
            profile: profile.id, id: Int(entry.id), className: profile.classNames[object.classID],
            name: object.name, birth: object.birth, death: object.death, maxSize: entry.maxSize,
            peakSize: entry.peakSize, lastSize: entry.lastSize, snapshotCount: Int(entry.snapshotCount))
    }

    private static func entries(of profile: Profile, index: Int) -> [Entry] {
        var entries = profile.objects.enumerated().map { id, object in
            Entry(
                profile: Int32(index), id: Int32(id), classID: Int32(object.classID), snapshotCount: 0, maxSize: 0,
                peakSize: 0, lastSize: 0, birth: object.birth.inSeconds, death: object.death?.inSeconds ?? .infinity)
        }
        let peak = profile.snapshots.indices.max {
            profile.snapshots[$0].trackedBytes < profile.snapshots[$1].trackedBytes
        }
        for (snapshotIndex, snapshot) in profile.snapshots.enumerated() {
            for (position, id) in snapshot.objectIDs.enumerated() {
                let size = snapshot.sizes[position]
                entries[Int(id)].maxSize = max(entries[Int(id)].maxSize, size)
                entries[Int(id)].lastSize = size
                entries[Int(id)].snapshotCount += 1
                if snapshotIndex == peak { entries[Int(id)].peakSize = size }
            }
        }
        return entries
    }

    /// Whether `a` goes before `b` by `key` in its natural order; nil when
    /// they tie on it.
    private static func precedes(
        _ a: Entry, _ b: Entry, by key: SortKey, _ profiles: [Profile], _ ranks: [[Int32]]
    ) -> Bool? {
        func order<T: Comparable>(_ x: T, _ y: T) -> Bool? { x == y ? nil : x < y }
        switch key {
        case .size: return order(b.maxSize, a.maxSize)
        case .peak: return order(b.peakSize, a.peakSize)
        case .birth: return order(a.birth, b.birth)
        case .death: return order(a.death, b.death)
        case .className:
            if a.profile == b.profile {
                return order(ranks[Int(a.profile)][Int(a.classID)], ranks[Int(b.profile)][Int(b.classID)])
            }
            return order(
                profiles[Int(a.profile)].classNames[Int(a.classID)], profiles[Int(b.profile)].classNames[Int(b.classID)]
            )
        case .name:
            return order(
                profiles[Int(a.profile)].objects[Int(a.id)].name ?? "",
                profiles[Int(b.profile)].objects[Int(b.id)].name ?? "")
        }
    }
}
