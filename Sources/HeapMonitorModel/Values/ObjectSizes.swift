extension Snapshot {
    /// A snapshot's sized objects, one `ObjectSize` each, read from its
    /// parallel arrays on access.
    ///
    /// ```swift
    /// let largest = snapshot.objects.max { $0.size < $1.size }
    /// ```
    public struct ObjectSizes: RandomAccessCollection, Hashable, Sendable {
        private let snapshot: Snapshot

        init(_ snapshot: Snapshot) { self.snapshot = snapshot }

        /// The first position: 0.
        public var startIndex: Int { 0 }
        /// The number of objects sized.
        public var endIndex: Int { snapshot.objectIDs.count }

        /// The object at `position` (in id order).
        public subscript(position: Int) -> ObjectSize {
            ObjectSize(
                object: Int(snapshot.objectIDs[position]), size: snapshot.sizes[position],
                flatSize: snapshot.flatSizes[position], referents: snapshot.referentTree(at: position))
        }

        /// Whether both hold the same objects with the same sizes.
        public static func == (a: ObjectSizes, b: ObjectSizes) -> Bool {
            a.snapshot.objectIDs == b.snapshot.objectIDs && a.snapshot.sizes == b.snapshot.sizes
                && a.snapshot.flatSizes == b.snapshot.flatSizes
                && a.indices.allSatisfy { a.snapshot.referentTree(at: $0) == b.snapshot.referentTree(at: $0) }
        }

        /// Hashes what `==` compares.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(snapshot.objectIDs)
            hasher.combine(snapshot.sizes)
            hasher.combine(snapshot.flatSizes)
            for position in indices { hasher.combine(snapshot.referentTree(at: position)) }
        }
    }
}
