extension Sequence {
    /// The elements by `key`, the largest first; elements with equal keys
    /// in ascending order of `tie`, so that reports read the same each run.
    ///
    /// ```swift
    /// nodes.sortedLargestFirst(by: \.size, thenBy: \.name)
    /// ```
    package func sortedLargestFirst<Key: Comparable, Tie: Comparable>(
        by key: (Element) -> Key, thenBy tie: (Element) -> Tie
    ) -> [Element] {
        sorted { key($0) != key($1) ? key($0) > key($1) : tie($0) < tie($1) }
    }
}
