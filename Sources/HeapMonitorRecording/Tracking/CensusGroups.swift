/// The rows of the census: a class is counted under its own name, but the
/// standard library's storage classes, one per element type and hundreds
/// in a program, are counted under the collection users write, as a JVM's
/// class histogram counts every object array as one row.
enum CensusGroups {
    private static let storage: [(prefix: String, row: String)] = [
        ("Swift._ContiguousArrayStorage<", "Array<Element> storage"),
        ("Swift._DictionaryStorage<", "Dictionary<Key, Value> storage"),
        ("Swift._SetStorage<", "Set<Element> storage"),
        ("Swift.__StringStorage", "String storage"),
        ("Swift.__SharedStringStorage", "String storage"),
        ("Foundation.__DataStorage", "Data storage"),
    ]

    /// The row `className` is counted in; nil for the monitor's own classes.
    static func row(for className: String) -> String? {
        if MonitorClasses.contains(className) { return nil }
        return storage.first { className.hasPrefix($0.prefix) }?.row ?? className
    }
}
