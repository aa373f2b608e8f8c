import HeapMonitorModel

/// What an HTML report draws from, computed once per page: per class, its
/// instances' summed sizes in each snapshot; the snapshots that sized the
/// tracked objects (background ones only add points to the memory lines);
/// the snapshot with the most tracked bytes.
struct ProfileTotals {
    let perClass: [Int: [Int]]
    let sizedSnapshots: [Int]
    /// Nil when nothing tracked was ever sized above 0 bytes.
    let peakSnapshot: Int?
    /// Classes by their largest total in any snapshot, the largest first
    /// (ties by class id).
    let classesByLargestTotal: [Int]

    init(_ profile: Profile) {
        var totals: [Int: [Int]] = [:]
        let zeros = [Int](repeating: 0, count: profile.snapshots.count)
        for (index, snapshot) in profile.snapshots.enumerated() {
            for (position, id) in snapshot.objectIDs.enumerated() {
                totals[profile.objects[Int(id)].classID, default: zeros][index] += snapshot.sizes[position]
            }
        }
        for classID in Set(profile.objects.map(\.classID)) where totals[classID] == nil { totals[classID] = zeros }
        perClass = totals
        sizedSnapshots = profile.snapshots.indices.filter { profile.snapshots[$0].sizedObjects }
        peakSnapshot = profile.snapshots.indices.filter { profile.snapshots[$0].trackedBytes > 0 }
            .max { profile.snapshots[$0].trackedBytes < profile.snapshots[$1].trackedBytes }
        classesByLargestTotal = totals.keys.sortedLargestFirst(by: { totals[$0]!.max() ?? 0 }, thenBy: { $0 })
    }
}
